// The one storage interface. Every engine (SQLite now; PostgreSQL and Redis
// later) implements it, and test/store/contract.ts runs unchanged against each.
// Times are epoch milliseconds. Token hashes are lower-case hex SHA-256.
import type { EventStore, NewEvent, WebhookOutbox } from "./event-store.js";
import type { FactorStore } from "./factor-store.js";
import type { TokenStore } from "./token-store.js";

export type Role = "user" | "admin";

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  /** When the current address was proven by a verification link; null until then. */
  emailVerifiedAt: number | null;
  /** Disabled by an admin until this time (DISABLED_FOREVER: until enabled again); null when enabled. */
  disabledUntil: number | null;
}

/** disabledUntil of an account disabled with no end: 9999-12-31T23:59:59.999Z. */
export const DISABLED_FOREVER = 253402300799999;

/** Whether the account is disabled at `now` (a disabledUntil in the past has ended by itself). */
export const isDisabled = (user: Pick<UserRow, "disabledUntil">, now: number) => user.disabledUntil !== null && user.disabledUntil > now;

export interface NewUser {
  id: string;
  email: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
  /** Set when the address needs no proof (an operator created the account); default null. */
  emailVerifiedAt?: number | null;
}

export interface SessionRow {
  /** Public id: names the session in listings and revocation. Never the token. */
  id: string;
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute expiry; the idle expiry is lastSeenAt + the configured idle timeout. */
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
  /** When the user last proved who they are in this session (log-in, re-authentication). */
  authenticatedAt: number;
  /** How: aal1 a password (or one factor), aal2 a password and a second factor. */
  aal: Aal;
  /** The admin signed in as this user (POST /users/:id/impersonate); null for the user's own sessions. */
  impersonatorId: string | null;
}

/** Authenticator assurance level (NIST SP 800-63B) a session was established at. */
export type Aal = "aal1" | "aal2";

export interface SessionWithUser {
  session: SessionRow;
  user: UserRow;
}

export interface CounterState {
  count: number;
  /** When the current window ends and the counter starts again from zero. */
  resetAt: number;
}

export interface UserPage {
  users: UserRow[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Outcome of a change that must never leave the system without an admin. */
export type AdminGuardedResult = "ok" | "not_found" | "last_admin";

/** Thrown by createUser when the (normalised) email is already taken. */
export class EmailTakenError extends Error {
  override name = "EmailTakenError";
  constructor() {
    super("Email already registered");
  }
}

/** Thrown by an engine that cannot reach its database; answered 503. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}

/**
 * Every write method that records a security event takes it as its last
 * argument and writes it in the same transaction as the change (see
 * event-store.ts). A write that changes nothing (an unknown session, the last
 * admin refused) writes no event.
 */
export interface Store {
  readonly engine: string;
  /** Bearer-token and password-reset storage (refresh families, reset links, settings). */
  readonly tokens: TokenStore;
  /** Second factors: TOTP authenticators, recovery codes, two-step login challenges. */
  readonly factors: FactorStore;
  /** The webhook outbox over the events table (src/webhooks/deliverer.ts drains it). */
  readonly webhooks: WebhookOutbox;
  /** The audit log. */
  readonly events: EventStore;

  createUser(user: NewUser, event?: NewEvent): Promise<UserRow>;
  findUserByEmail(email: string): Promise<UserRow | null>;
  findUserById(id: string): Promise<UserRow | null>;
  setPasswordHash(userId: string, passwordHash: string, now: number, event?: NewEvent): Promise<void>;
  recordLogin(userId: string, now: number, event?: NewEvent): Promise<void>;
  /**
   * Marks the address verified, only if it is still the user's address (a
   * link for an address the account no longer has proves nothing); false otherwise.
   */
  markEmailVerified(userId: string, email: string, now: number, event?: NewEvent): Promise<boolean>;
  /**
   * Gives the account a new (proven) address: `verifiedAt` becomes its
   * emailVerifiedAt. Throws EmailTakenError when another account has it (the
   * unique constraint decides, so two accounts can never share one); false
   * when the user is gone.
   */
  setEmail(userId: string, email: string, verifiedAt: number | null, now: number, event?: NewEvent): Promise<boolean>;
  /** Users ordered by id; `cursor` is the last id of the previous page. */
  listUsers(options: { limit: number; cursor?: string | undefined; emailPrefix?: string | undefined }): Promise<UserPage>;
  /** Atomically refuses to demote the last admin (the last one not disabled). */
  setUserRole(userId: string, role: Role, now: number, event?: NewEvent): Promise<AdminGuardedResult>;
  /**
   * Disables the account until `until` (null: enables it). Disabling
   * atomically refuses to leave no admin that is not disabled ("last_admin").
   * The caller ends its sessions (accounts.ts).
   */
  setDisabledUntil(userId: string, until: number | null, now: number, event?: NewEvent): Promise<AdminGuardedResult>;
  /** Deletes the user and every session of theirs; atomically refuses to delete the last admin. */
  deleteUser(userId: string, event?: NewEvent): Promise<AdminGuardedResult>;

  createSession(session: SessionRow): Promise<void>;
  /** The session and its user in one read, or null. Does not check expiry. */
  findSession(tokenHash: string): Promise<SessionWithUser | null>;
  /**
   * Sliding renewal: an UPDATE of an existing row, never an upsert, so a
   * deleted session can never come back. Returns false when the row is gone.
   */
  touchSession(tokenHash: string, lastSeenAt: number): Promise<boolean>;
  /** The event, if any, is written only when a session was deleted, with its user and public id filled in. */
  deleteSession(tokenHash: string, event?: NewEvent): Promise<void>;
  /** Every session of the user (live or not yet pruned), newest first. */
  listUserSessions(userId: string): Promise<SessionRow[]>;
  /** Deletes the session with this public id only if it belongs to the user. */
  deleteUserSession(userId: string, sessionId: string, event?: NewEvent): Promise<boolean>;
  /** Deletes every session of the user, except the one with `exceptTokenHash` if given. */
  deleteUserSessions(userId: string, exceptTokenHash?: string, event?: NewEvent): Promise<number>;
  /**
   * Deletes every session of every user (ASVS V7.4.5: an operator ends them all);
   * returns how many. A session created while this runs may survive it.
   */
  deleteAllSessions(event?: NewEvent): Promise<number>;
  /** Deletes at most `limit` sessions past either expiry; returns how many. */
  pruneSessions(now: number, idleTimeoutMs: number, limit: number): Promise<number>;

  /**
   * Fixed-window counter (rate limits, lockouts): adds one and returns the
   * state. A window that has ended starts again at 1. Atomic under concurrency.
   */
  hitCounter(key: string, windowMs: number, now: number): Promise<CounterState>;
  /** The counter's state, or null when absent or its window has ended. */
  peekCounter(key: string, now: number): Promise<CounterState | null>;
  deleteCounter(key: string): Promise<void>;
  /** Deletes at most `limit` counters whose window has ended. */
  pruneCounters(now: number, limit: number): Promise<number>;

  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
