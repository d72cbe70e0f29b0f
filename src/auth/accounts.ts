// The account lifecycle: what may be done to an account, and what ends when.
// Routes, the CLI, password reset and the admin bootstrap call these; nothing
// else ends sessions or bearer credentials of a user. The rule (ASVS V7):
//
//   operation              ends (of that user)
//   create                 nothing
//   setPassword            every other cookie session, every refresh family (and
//                          with it every access token), every reset link; the
//                          session kept, if any, is rotated to a new token
//   changeRole (a change)  every cookie session, refresh family, reset link
//   setEmail (a change)    the same (an operator's change; the user's own goes
//                          through email-change.ts, which keeps the confirming session)
//   remove                 everything: the rows go with the user (foreign keys)
//   endSessions            every cookie session (but `keep`), refresh family, reset link,
//                          two-step login challenge (a password checked before no longer counts)
//   endEverySession        the same, for every user
//   disable                every cookie session, refresh family, reset link, login challenge
//
// Second factors (routes/mfa.ts, routes/admin.ts) end through endSessions:
// turning one on or off ends every other session and bearer credential (the
// browser that did it goes on); an admin's removal ends all of the user's.
//
// test/accounts.test.ts holds this table and checks it on every engine.
//
// Each operation records its event (events.ts) in the transaction of the
// change that makes it true; `context` says who acted and from where.
import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { newEvent, type EventContext } from "../events.js";
import { newPasswordSchema } from "../schemas.js";
import { DISABLED_FOREVER, EmailTakenError, type AdminGuardedResult, type Role, type SessionRow, type Store, type UserRow } from "../store/store.js";
import { passwordPolicyViolation } from "./password-policy.js";
import type { PasswordHasher } from "./passwords.js";
import type { SessionManager, SessionMeta } from "./sessions.js";

export interface AccountsDeps {
  store: Store;
  sessions: SessionManager;
  passwords: Pick<PasswordHasher, "hash">;
  clock: Clock;
  config: Pick<Config, "rejectCommonPasswords" | "events"> & { session: Pick<Config["session"], "pruneBatchSize"> };
}

/** A refused new password, with the sentence that says why. */
export interface WeakPassword {
  refused: "weak_password";
  reason: string;
}

export function createAccounts(deps: AccountsDeps) {
  const { store, sessions, passwords, clock, config } = deps;

  /** Why this password may not be set for this account (length, the email itself, a common password), or null. */
  function passwordProblem(password: string, email: string): string | null {
    const length = newPasswordSchema.safeParse(password);
    if (!length.success) return length.error.issues[0]!.message;
    return passwordPolicyViolation(password, email, { rejectCommon: config.rejectCommonPasswords });
  }

  const weak = (reason: string): WeakPassword => ({ refused: "weak_password", reason });

  /**
   * Every credential of the user but the kept session: cookie sessions,
   * refresh families (access tokens), reset links. With a context, records
   * "sessions.revoked"; without one, it is a step of another operation that
   * records its own event.
   */
  async function endSessions(userId: string, options: { keep?: SessionRow; context?: EventContext } = {}): Promise<number> {
    const { keep, context } = options;
    await store.tokens.revokeUserCredentials(userId);
    await store.factors.deleteUserChallenges(userId);
    const event = context && newEvent("sessions.revoked", clock(), context, userId, { scope: keep ? "others" : "all" });
    return store.deleteUserSessions(userId, keep?.tokenHash, event);
  }

  return {
    passwordProblem,
    endSessions,

    /** A new account. The password is checked before any lookup or hashing; a taken email is refused. */
    async create(
      input: { email: string; password: string; role: Role; /** An operator vouches for the address (CLI, bootstrap). */ verified?: boolean },
      context: EventContext = {},
    ): Promise<UserRow | WeakPassword | { refused: "email_taken" }> {
      const problem = passwordProblem(input.password, input.email);
      if (problem) return weak(problem);
      if (await store.findUserByEmail(input.email)) return { refused: "email_taken" };
      const passwordHash = await passwords.hash(input.password);
      const id = randomUUID();
      const now = clock();
      try {
        const event = newEvent("signup", now, context, id, { role: input.role });
        const emailVerifiedAt = input.verified ? now : null;
        return await store.createUser({ id, email: input.email, passwordHash, role: input.role, createdAt: now, emailVerifiedAt }, event);
      } catch (err) {
        if (err instanceof EmailTakenError) return { refused: "email_taken" }; // lost a race with a concurrent signup
        throw err;
      }
    },

    /**
     * Sets a new password. Whoever else holds a session or a bearer token
     * (perhaps the reason for the change) is out BEFORE the new hash is
     * written: should anything below fail, no stolen credential outlives the
     * change. Once more after the write, for a login that checked the old
     * password in between (logins re-check the hash after issuing, so none can
     * slip past the second pass). With `keep`, that session goes on under a
     * brand-new token, returned; without it, every session ends. Records
     * "password.changed", "password.reset" (a reset link) or "account.not_me"
     * (a random password after "this wasn't me"), by `reason`.
     * Throws PasswordHasherBusyError before anything ended when the hasher is full.
     */
    async setPassword(
      user: UserRow,
      password: string,
      options: { keep?: SessionRow; meta?: SessionMeta; context?: EventContext; reason?: "changed" | "reset" | "not_me" } = {},
    ): Promise<{ user: UserRow; token: string | null } | WeakPassword> {
      const problem = passwordProblem(password, user.email);
      if (problem) return weak(problem);
      const passwordHash = await passwords.hash(password);
      const keep = options.keep ? { keep: options.keep } : {};
      await endSessions(user.id, keep);
      const now = clock();
      const type = ({ changed: "password.changed", reset: "password.reset", not_me: "account.not_me" } as const)[options.reason ?? "changed"];
      const event = newEvent(type, now, options.context ?? {}, user.id);
      await store.setPasswordHash(user.id, passwordHash, now, event);
      await endSessions(user.id, keep);
      const token = options.keep ? (await sessions.rotate(options.keep, options.meta)).token : null;
      return { user: { ...user, passwordHash, updatedAt: now }, token };
    },

    /**
     * Changes the role. The same role changes nothing and ends nothing; a change
     * ends every credential, so the user signs in again under the new role.
     * The store refuses atomically to demote the last admin.
     */
    async changeRole(
      userId: string,
      role: Role,
      context: EventContext = {},
    ): Promise<{ user: UserRow; changed: boolean; revoked: number } | "not_found" | "last_admin"> {
      const before = await store.findUserById(userId);
      if (!before) return "not_found";
      if (before.role === role) return { user: before, changed: false, revoked: 0 };
      const now = clock();
      const result = await store.setUserRole(userId, role, now, newEvent("role.changed", now, context, userId, { from: before.role, to: role }));
      if (result !== "ok") return result;
      const revoked = await endSessions(userId);
      const after = await store.findUserById(userId);
      return after ? { user: after, changed: true, revoked } : "not_found";
    },

    /**
     * An operator gives the account another address (admin route, CLI): it
     * counts as verified (the operator vouches), and every credential ends,
     * so the user signs in again with it. The unique constraint refuses a taken one.
     */
    async setEmail(userId: string, email: string, context: EventContext = {}): Promise<{ user: UserRow; changed: boolean } | "not_found" | "email_taken"> {
      const before = await store.findUserById(userId);
      if (!before) return "not_found";
      if (before.email === email) return { user: before, changed: false };
      const now = clock();
      try {
        if (!(await store.setEmail(userId, email, now, now, newEvent("email.changed", now, context, userId)))) return "not_found";
      } catch (err) {
        if (err instanceof EmailTakenError) return "email_taken";
        throw err;
      }
      await endSessions(userId);
      const after = await store.findUserById(userId);
      return after ? { user: after, changed: true } : "not_found";
    },

    /**
     * Deletes the account and everything it holds (never the last admin): on
     * every engine the sessions, refresh families and reset links go with the
     * user row, by foreign key (Redis: the store deletes the user's sessions).
     */
    remove(userId: string, context: EventContext = {}): Promise<"ok" | "not_found" | "last_admin"> {
      return store.deleteUser(userId, newEvent("account.deleted", clock(), context, userId));
    },

    /** Every session and bearer credential of every user (ASVS V7.4.5). */
    async endEverySession(context: EventContext = {}): Promise<{ sessions: number; families: number }> {
      const families = await store.tokens.revokeAllCredentials();
      const sessionsEnded = await store.deleteAllSessions(newEvent("sessions.revoked_everywhere", clock(), context, null));
      return { sessions: sessionsEnded, families };
    },

    /**
     * Disables the account until `until` (DISABLED_FOREVER: until enabled):
     * every session, bearer credential and login challenge of it ends at once,
     * and its log-in answers 403 after a right password. Never the last admin
     * that is not disabled.
     */
    async disable(userId: string, until: number, reason: string, context: EventContext = {}): Promise<AdminGuardedResult> {
      const now = clock();
      const details = { reason, until: until === DISABLED_FOREVER ? null : new Date(until).toISOString() };
      const result = await store.setDisabledUntil(userId, until, now, newEvent("account.disabled", now, context, userId, details));
      if (result === "ok") await endSessions(userId);
      return result;
    },

    /** Lifts a disabling (or does nothing to an enabled account); "not_found" for no such user. */
    async enable(userId: string, context: EventContext = {}): Promise<"ok" | "not_found"> {
      const now = clock();
      const result = await store.setDisabledUntil(userId, null, now, newEvent("account.enabled", now, context, userId));
      return result === "ok" ? "ok" : "not_found";
    },

    /**
     * Deletes everything that has expired, in bounded batches: sessions,
     * rate-limit counters, bearer and reset tokens, login challenges, events older than
     * EVENTS_RETENTION (at most ten batches a run: a first run over a large
     * backlog goes on at the next interval rather than hold the database).
     * The server's background pruner and `latchkey sessions prune` both call it.
     */
    async prune(): Promise<{ sessions: number; counters: number; tokens: number; events: number }> {
      const batch = config.session.pruneBatchSize;
      const removed = await sessions.prune(batch);
      const counters = await store.pruneCounters(clock(), batch);
      const tokens = (await store.tokens.pruneTokens(clock(), batch)) + (await store.factors.pruneChallenges(clock(), batch));
      let events = 0;
      for (let i = 0, n = batch; i < 10 && n === batch; i++) {
        n = await store.events.prune(clock() - config.events.retentionMs, batch);
        events += n;
      }
      return { sessions: removed, counters, tokens, events };
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;

/** Whether an outcome of create() or setPassword() is a refusal. */
export function isRefusal<T>(outcome: T | WeakPassword | { refused: "email_taken" }): outcome is WeakPassword | { refused: "email_taken" } {
  return typeof outcome === "object" && outcome !== null && "refused" in outcome;
}
