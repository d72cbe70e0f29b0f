// Second factors: enrolling a TOTP authenticator, checking its codes and the
// recovery codes, and the challenges of a two-step login. What a check
// proves becomes the session's `aal` (sessions.ts); the routes decide when to
// ask (routes/mfa.ts, routes/auth.ts).
//
// Secrets: the TOTP key is sealed (secret-box.ts) under DATA_ENCRYPTION_KEY,
// bound to its user; recovery codes and challenges are stored as SHA-256
// only. A code is accepted at most once: the store keeps the last time step
// used and only a later one passes (atomically, on every engine).
import { randomBytes } from "node:crypto";
import { renderSVG } from "uqr";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { newEvent, type EventContext } from "../events.js";
import type { Logger } from "../log.js";
import type { ChallengeKind } from "../store/factor-store.js";
import type { Store, UserRow } from "../store/store.js";
import { createSecretBox, DATA_KEY_BYTES, sealedKeyId, type SecretBox } from "./secret-box.js";
import { base32Encode, generateTotpSecret, matchTotp, otpauthUrl } from "./totp.js";
import { generateToken, hashToken, isWellFormedToken } from "./tokens.js";

export const RECOVERY_CODE_COUNT = 10;
/** A two-step login's second step must come within this. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** The development key, kept in the settings table (never used in production). */
const DEV_KEY_SETTING = "data_encryption_key.dev";
/** Recovery codes: 16 characters (80 bits) of an alphabet without look-alikes, shown in groups of four. */
const CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
const CODE_LENGTH = 16;

/** A second factor a sign-in can be finished with. */
export type FactorMethod = "totp" | "recovery_code";

export interface MfaDeps {
  config: Pick<Config, "env" | "mfa">;
  store: Store;
  clock: Clock;
  logger: Logger;
}

/** Thrown by setup when no key can seal the secret (production without DATA_ENCRYPTION_KEY). */
export class NoDataKeyError extends Error {
  constructor() {
    super("DATA_ENCRYPTION_KEY is not set: second factors cannot be stored");
    this.name = "NoDataKeyError";
  }
}

/** Thrown at start when the stored secrets were sealed under another key. */
export class WrongDataKeyError extends Error {
  constructor(stored: string | null, configured: string) {
    super(`DATA_ENCRYPTION_KEY (key ${configured}) is not the key the stored second-factor secrets were sealed with (key ${stored ?? "unknown"})`);
    this.name = "WrongDataKeyError";
  }
}

export function generateRecoveryCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  let code = "";
  for (const byte of bytes) code += CODE_ALPHABET[byte % CODE_ALPHABET.length]; // a slight bias (9/256 or 8/256 a character): still 79 bits
  return code.match(/.{4}/g)!.join("-");
}

/** As people type it: any case, dashes and spaces ignored. */
export function normalizeRecoveryCode(text: string): string {
  return text.toLowerCase().replace(/[\s-]/g, "");
}

const hashRecoveryCode = (code: string) => hashToken(normalizeRecoveryCode(code));
const associatedData = (userId: string) => `totp:${userId}`;

export function createMfa(deps: MfaDeps) {
  const { config, store, clock, logger } = deps;

  let box: Promise<SecretBox | null> | undefined;
  /** The configured key; in development and test one generated and kept in the database; in production without one, null. */
  const secretBox = () => {
    box ??= (async () => {
      if (config.mfa.dataKey) return createSecretBox(config.mfa.dataKey);
      if (config.env === "production") return null;
      let key = await store.tokens.getSetting(DEV_KEY_SETTING);
      if (!key) key = await store.tokens.setSettingIfAbsent(DEV_KEY_SETTING, randomBytes(DATA_KEY_BYTES).toString("base64"));
      logger.warn({
        event: "mfa.dev_key",
        message: "No DATA_ENCRYPTION_KEY set: sealing second-factor secrets with a generated development key stored in the database. Set one in production.",
      });
      return createSecretBox(Buffer.from(key, "base64"));
    })().catch((err) => {
      box = undefined; // a store hiccup at start must not disable second factors for good
      throw err;
    });
    return box;
  };

  async function openSecret(userId: string, sealed: string): Promise<Buffer> {
    const opened = await secretBox();
    if (!opened) throw new NoDataKeyError();
    return opened.open(sealed, associatedData(userId));
  }

  function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
    return { codes, hashes: codes.map(hashRecoveryCode) };
  }

  return {
    /**
     * At start: once any secret is stored, the server needs the key that
     * sealed it (production refuses to start without DATA_ENCRYPTION_KEY, and
     * any engine with another key): otherwise every account with a second
     * factor could no longer sign in.
     */
    async assertKeyUsable(): Promise<void> {
      const stored = await store.factors.anySealedSecret();
      if (stored === null) return;
      const opened = await secretBox();
      if (!opened) throw new NoDataKeyError();
      const id = sealedKeyId(stored);
      if (id !== opened.keyId) throw new WrongDataKeyError(id, opened.keyId);
    },

    /** The second factors the account can finish a sign-in with; empty when it has none. */
    async methods(userId: string): Promise<FactorMethod[]> {
      const factor = await store.factors.getTotp(userId);
      return factor?.enabledAt != null ? ["totp", "recovery_code"] : [];
    },

    /**
     * A new secret, pending until `enable` confirms a code from it; replaces
     * an earlier pending one. "enabled" when the account has one already.
     */
    async setup(user: Pick<UserRow, "id" | "email">): Promise<{ secret: string; otpauthUrl: string; qrSvg: string } | "enabled"> {
      const opened = await secretBox();
      if (!opened) throw new NoDataKeyError();
      const secret = generateTotpSecret();
      if (!(await store.factors.putPendingTotp(user.id, opened.seal(secret, associatedData(user.id)), clock()))) return "enabled";
      const url = otpauthUrl({ issuer: config.mfa.issuer, account: user.email, secret });
      return { secret: base32Encode(secret), otpauthUrl: url, qrSvg: renderSVG(url, { border: 2 }) };
    },

    /** Confirms the pending secret with a code from it: on, with fresh recovery codes (returned, shown once). */
    async enable(user: Pick<UserRow, "id">, code: string, context: EventContext): Promise<{ recoveryCodes: string[] } | "not_pending" | "invalid_code"> {
      const factor = await store.factors.getTotp(user.id);
      if (!factor || factor.enabledAt !== null) return "not_pending";
      const now = clock();
      const step = matchTotp(await openSecret(user.id, factor.secretSealed), code, now, null);
      if (step === null) return "invalid_code";
      const { codes, hashes } = newRecoveryCodes();
      const event = newEvent("mfa.totp_enabled", now, context, user.id);
      return (await store.factors.enableTotp(user.id, step, hashes, now, event)) ? { recoveryCodes: codes } : "not_pending";
    },

    /** Whether the code is the account's current one and not used before (it is used now). */
    async verifyTotp(userId: string, code: string): Promise<boolean> {
      const factor = await store.factors.getTotp(userId);
      if (!factor || factor.enabledAt === null) return false;
      const step = matchTotp(await openSecret(userId, factor.secretSealed), code, clock(), factor.lastUsedStep);
      return step !== null && (await store.factors.useTotpStep(userId, step));
    },

    /** Spends a recovery code of the account (its event recorded); false when it is not one. */
    async useRecoveryCode(userId: string, code: string, context: EventContext): Promise<boolean> {
      const normalized = normalizeRecoveryCode(code);
      if (normalized.length !== CODE_LENGTH) return false;
      const now = clock();
      const remaining = (await store.factors.countRecoveryCodes(userId)) - 1;
      const event = newEvent("mfa.recovery_code_used", now, context, userId, { remaining: Math.max(0, remaining) });
      return store.factors.useRecoveryCode(userId, hashRecoveryCode(code), now, event);
    },

    /** New recovery codes replacing every old one; null when the account has no second factor. */
    async regenerateRecoveryCodes(userId: string, context: EventContext): Promise<string[] | null> {
      if ((await this.methods(userId)).length === 0) return null;
      const { codes, hashes } = newRecoveryCodes();
      const now = clock();
      await store.factors.replaceRecoveryCodes(userId, hashes, now, newEvent("mfa.recovery_codes_regenerated", now, context, userId));
      return codes;
    },

    /** Removes the authenticator and the recovery codes; false when there was none. */
    async disable(userId: string, context: EventContext): Promise<boolean> {
      return store.factors.removeTotp(userId, newEvent("mfa.totp_disabled", clock(), context, userId));
    },

    recoveryCodesLeft: (userId: string) => store.factors.countRecoveryCodes(userId),

    /** A challenge for the second step of a login; returns its token (for the cookie or the body). */
    async createChallenge(userId: string, kind: ChallengeKind): Promise<string> {
      const token = generateToken();
      const now = clock();
      await store.factors.createChallenge({ tokenHash: hashToken(token), kind, userId, createdAt: now, expiresAt: now + CHALLENGE_TTL_MS });
      return token;
    },

    /** The user a live challenge is for, or null; the challenge stays live (a mistyped code may be retried). */
    async challengeUser(token: string | undefined, kind: ChallengeKind): Promise<string | null> {
      if (!token || !isWellFormedToken(token)) return null;
      return store.factors.findChallenge(hashToken(token), kind, clock());
    },

    /** Spends the challenge: true exactly once (a second finish of the same login gets nothing). */
    async consumeChallenge(token: string, kind: ChallengeKind): Promise<boolean> {
      return store.factors.consumeChallenge(hashToken(token), kind, clock());
    },
  };
}

export type Mfa = ReturnType<typeof createMfa>;
