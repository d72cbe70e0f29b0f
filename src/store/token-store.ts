// Storage for bearer tokens and password resets, kept apart from the core
// Store so each engine can add it without touching the session code.
// Times are epoch milliseconds; token hashes are lower-case hex SHA-256 (the
// tokens themselves are never stored).
import type { NewEvent } from "./event-store.js";

export interface NewRefreshFamily {
  familyId: string;
  userId: string;
  /** SHA-256 of the family's first refresh token. */
  tokenHash: string;
  now: number;
  /** When this first token expires. */
  expiresAt: number;
  /** No token of the family outlives this, however often it is rotated. */
  familyExpiresAt: number;
}

/**
 * Outcome of presenting a refresh token:
 * - ok: it was live and unused; it is now used and `next` is the family's live token.
 * - reused: it had already been rotated (a copy is in someone else's hands);
 *   the whole family has been revoked.
 * - invalid: unknown, expired, or its family was revoked.
 */
export type RotateResult =
  | { status: "ok"; userId: string; familyId: string }
  | { status: "reused"; userId: string; familyId: string }
  | { status: "invalid" };

export interface NewResetToken {
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/** What an emailed one-time link is for. */
export type EmailTokenKind = "verify" | "email_change" | "not_me";

export interface NewEmailToken {
  tokenHash: string;
  kind: EmailTokenKind;
  userId: string;
  /** The address the link was sent to (and, for "verify", proves). */
  email: string;
  createdAt: number;
  expiresAt: number;
}

export interface TokenStore {
  /** Starts a refresh-token family (one per login) with its first token. */
  createRefreshFamily(family: NewRefreshFamily): Promise<void>;
  /**
   * Atomically marks the presented token used and adds `next` to its family.
   * Of two concurrent uses of one token exactly one gets "ok"; the other gets
   * "reused" and revokes the family (including the winner's new token).
   * `next.expiresAt` is capped at the family's own expiry.
   * `reuseEvent`, if given, is recorded (with the family's user) in the same
   * transaction when the answer is "reused".
   */
  rotateRefreshToken(tokenHash: string, next: { tokenHash: string; expiresAt: number }, now: number, reuseEvent?: NewEvent): Promise<RotateResult>;
  /** Revokes the family the token belongs to (logout), with its event; false when the token is unknown. */
  revokeRefreshFamilyOf(tokenHash: string, event?: NewEvent): Promise<boolean>;
  /** Revokes every refresh-token family of the user; returns how many. */
  revokeUserRefreshFamilies(userId: string): Promise<number>;
  /** Live (unrevoked, unexpired) families of the user. */
  countUserRefreshFamilies(userId: string, now: number): Promise<number>;
  /**
   * Whether the family exists, belongs to the user and has not reached its
   * absolute expiry. An access token names its family (`sid`), and this one
   * primary-key read on every bearer request ends the access tokens of a
   * revoked family with it.
   */
  isRefreshFamilyLive(familyId: string, userId: string, now: number): Promise<boolean>;
  /**
   * Ends every bearer credential of the user in ONE transaction: every refresh
   * family (its tokens and, through `sid`, its access tokens) and every
   * outstanding reset token. Returns how many families ended.
   */
  revokeUserCredentials(userId: string): Promise<number>;
  /** The same for every user at once (ASVS V7.4.5); returns how many families ended. */
  revokeAllCredentials(): Promise<number>;

  createResetToken(token: NewResetToken): Promise<void>;
  /** Single use: atomically removes a live token and returns its user id; null when unknown, used or expired. */
  consumeResetToken(tokenHash: string, now: number): Promise<string | null>;
  /** Removes every outstanding reset token of the user. */
  deleteUserResetTokens(userId: string): Promise<number>;

  /** Stores an emailed link; the user's earlier links of the same kind stop working (superseded), in one transaction. */
  createEmailToken(token: NewEmailToken): Promise<void>;
  /** Single use: atomically removes a live link of this kind and returns whom and which address it names; null otherwise. */
  consumeEmailToken(tokenHash: string, kind: EmailTokenKind, now: number): Promise<{ userId: string; email: string } | null>;

  /** A small persisted setting (the development signing key). */
  getSetting(key: string): Promise<string | null>;
  /** Stores the value unless the key exists; returns the value that is stored (first writer wins). */
  setSettingIfAbsent(key: string, value: string): Promise<string>;

  /** Deletes at most `limit` expired refresh tokens, families, reset tokens and email links; returns how many. */
  pruneTokens(now: number, limit: number): Promise<number>;
}
