// Password reset by email. A reset link carries a single-use 256-bit token
// (only its SHA-256 is stored) that lives PASSWORD_RESET_TTL (1 h). Asking
// for a link answers the same, at the same speed, whether or not the account
// exists: the lookup, the token and the email happen after the response.
import { newEvent, type EventContext } from "../events.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import type { Mailer } from "../mail.js";
import type { Store, UserRow } from "../store/store.js";
import type { Accounts } from "./accounts.js";
import { linkBase } from "../base-path.js";
import { createAfterResponse } from "./after-response.js";
import { PasswordHasherBusyError } from "./passwords.js";
import { generateToken, hashToken, isWellFormedToken } from "./tokens.js";

export interface ResetDeps {
  config: Pick<Config, "env" | "port" | "publicUrl" | "passwordReset"> & Partial<Pick<Config, "basePath">>;
  store: Store;
  accounts: Pick<Accounts, "setPassword">;
  mailer: Mailer;
  clock: Clock;
  logger: Logger;
}

export function createPasswordResets(deps: ResetDeps) {
  const { config, store, accounts, mailer, clock, logger } = deps;
  const { later, settle } = createAfterResponse(logger);

  /**
   * Puts a spent token back after the hasher refused the work (503): the
   * owner did nothing wrong and keeps a working link. The store returned only
   * the user, not the old expiry, so the link gets a fresh PASSWORD_RESET_TTL.
   */
  async function giveBack(tokenHash: string, userId: string): Promise<void> {
    const now = clock();
    await store.tokens.createResetToken({ tokenHash, userId, createdAt: now, expiresAt: now + config.passwordReset.ttlMs });
  }

  async function sendResetLink(email: string, context: EventContext): Promise<void> {
    const user = await store.findUserByEmail(email);
    if (!user) {
      logger.info({ event: "password_reset.unknown_email" });
      return;
    }
    const token = generateToken();
    const now = clock();
    await store.tokens.createResetToken({
      tokenHash: hashToken(token),
      userId: user.id,
      createdAt: now,
      expiresAt: now + config.passwordReset.ttlMs,
    });
    await store.events.append(newEvent("password.reset_requested", now, context, user.id));
    const link = `${linkBase(config)}/reset-password?token=${token}`;
    const minutes = Math.round(config.passwordReset.ttlMs / 60_000);
    await mailer.send({
      to: user.email,
      subject: "Reset your password",
      text: [
        "Someone (hopefully you) asked to reset the password of the account for this address.",
        `To choose a new password, open this link within ${minutes} minutes (it works once):`,
        "",
        link,
        "",
        "If you did not ask for this, ignore this message: your password stays as it is.",
      ].join("\n"),
    });
    logger.info({ event: "password_reset.sent", userId: user.id });
  }

  return {
    /**
     * Starts sending a reset link (if the account exists) and returns at once,
     * so the caller's response cannot reveal whether it does.
     */
    requestReset(email: string, context: EventContext = {}): void {
      // later(): start only after the response is on its way. The SQLite
      // engine's reads are synchronous, so even the lookup would otherwise run
      // inside this request and make a known address measurably slower.
      later("password_reset.send_failed", () => sendResetLink(email, context));
    },

    /** Waits for reset emails still being sent (graceful stop, tests). */
    settle,

    /**
     * Sets a new password with a reset token: single use, checked for expiry.
     * Ends every session, token family and access token of the user
     * (accounts.setPassword). Returns the user, `{ refused }` when the password
     * may not be used for this account (known only once the token named it:
     * the link is spent), or null when the token is unknown, used or expired.
     *
     * The token is spent before any password work: the store's consume is the
     * only look-up that is also atomic (one winner among concurrent uses), and
     * an unknown token must never reach Argon2id, or anyone could fill the
     * hasher's queue with junk tokens and turn real logins into 503s. Should the
     * hasher be too busy for a real token, the token is given back, so the
     * owner can retry the same link.
     */
    async resetPassword(token: string, newPassword: string, context: EventContext = {}): Promise<UserRow | { refused: string } | null> {
      if (!isWellFormedToken(token)) return null;
      const tokenHash = hashToken(token);
      const tokens = store.tokens;
      const userId = await tokens.consumeResetToken(tokenHash, clock());
      if (!userId) return null;
      const user = await store.findUserById(userId);
      if (!user) return null;
      let changed: Awaited<ReturnType<Accounts["setPassword"]>>;
      try {
        changed = await accounts.setPassword(user, newPassword, { context, reason: "reset" });
      } catch (err) {
        if (err instanceof PasswordHasherBusyError) await giveBack(tokenHash, userId);
        throw err;
      }
      if ("refused" in changed) return { refused: changed.reason };
      logger.info({ event: "password_reset.done", userId: user.id });
      return changed.user;
    },
  };
}

export type PasswordResets = ReturnType<typeof createPasswordResets>;
