// Storage for second factors: an account's TOTP authenticator, its recovery
// codes, and the short-lived challenges of a two-step login. Kept apart from
// the core Store, like the token store. Times are epoch milliseconds; the
// TOTP secret arrives sealed (auth/secret-box.ts) and recovery codes and
// challenges as SHA-256 hex: the store never holds any of them in the clear.
import type { NewEvent } from "./event-store.js";

export interface TotpFactor {
  userId: string;
  /** The secret, sealed under DATA_ENCRYPTION_KEY. */
  secretSealed: string;
  createdAt: number;
  /** Null while pending: set up, not yet confirmed with a code. */
  enabledAt: number | null;
  /** The last time step whose code was accepted; no code of that step or an earlier one works again. */
  lastUsedStep: number | null;
}

/** The two kinds of client a login challenge can be finished by. */
export type ChallengeKind = "cookie" | "bearer";

export interface NewChallenge {
  tokenHash: string;
  kind: ChallengeKind;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

export interface FactorStore {
  /** The account's authenticator, pending or enabled, or null. */
  getTotp(userId: string): Promise<TotpFactor | null>;
  /**
   * Starts an enrolment: a pending secret, replacing a pending one. False (and
   * nothing written) when the account already has an enabled authenticator.
   */
  putPendingTotp(userId: string, secretSealed: string, now: number): Promise<boolean>;
  /**
   * Turns the pending authenticator on, `step` counted as used, with these
   * recovery codes replacing any and the event, in one transaction. False when
   * there is nothing pending (none, or already on, e.g. a concurrent enable won).
   */
  enableTotp(userId: string, step: number, recoveryCodeHashes: string[], now: number, event?: NewEvent): Promise<boolean>;
  /**
   * Counts `step` as used if it is later than the last one used, on an
   * enabled authenticator. Of two concurrent uses of one code exactly one gets
   * true, on any number of instances.
   */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  /** Removes the authenticator (pending or on) and every recovery code, with the event; false when there was none. */
  removeTotp(userId: string, event?: NewEvent): Promise<boolean>;

  /** Replaces every recovery code of the account, with the event, in one transaction. */
  replaceRecoveryCodes(userId: string, codeHashes: string[], now: number, event?: NewEvent): Promise<void>;
  /** Spends an unused code of the account (true exactly once, even under concurrency), with the event. */
  useRecoveryCode(userId: string, codeHash: string, now: number, event?: NewEvent): Promise<boolean>;
  /** Unused recovery codes of the account. */
  countRecoveryCodes(userId: string): Promise<number>;
  /**
   * Some stored sealed secret (pending or on), or null when there is none: the
   * server will not start without the key that sealed it. Which one is unspecified.
   */
  anySealedSecret(): Promise<string | null>;

  /** A two-step login's challenge: the password was right, the second factor is next. */
  createChallenge(challenge: NewChallenge): Promise<void>;
  /** The user of a live challenge of this kind (unexpired, unspent); does not spend it (a mistyped code may be retried). */
  findChallenge(tokenHash: string, kind: ChallengeKind, now: number): Promise<string | null>;
  /** Spends a live challenge: true exactly once. */
  consumeChallenge(tokenHash: string, kind: ChallengeKind, now: number): Promise<boolean>;
  /** Ends every challenge of the account (its sessions ended: a password checked before does not count any more). */
  deleteUserChallenges(userId: string): Promise<number>;
  /** Deletes at most `limit` expired challenges. */
  pruneChallenges(now: number, limit: number): Promise<number>;
}
