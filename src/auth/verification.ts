// Email verification (EMAIL_VERIFICATION): a link with a single-use 256-bit
// token (only its SHA-256 is stored, with the address it proves), mailed at
// signup and on request, valid EMAIL_VERIFICATION_TTL. A newer link voids
// the older ones. Mails go out after the response (setImmediate), so whether
// an address exists never shows in an answer or in its timing.
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { newEvent, type EventContext } from "../events.js";
import type { Logger } from "../log.js";
import type { Mailer } from "../mail.js";
import type { Store, UserRow } from "../store/store.js";
import { linkBase } from "../base-path.js";
import { createAfterResponse } from "./after-response.js";
import { generateToken, hashToken, isWellFormedToken } from "./tokens.js";

export interface VerificationDeps {
  config: Pick<Config, "port" | "publicUrl" | "emailVerification"> & Partial<Pick<Config, "basePath">>;
  store: Store;
  mailer: Mailer;
  clock: Clock;
  logger: Logger;
}


export function createEmailVerification(deps: VerificationDeps) {
  const { config, store, mailer, clock, logger } = deps;
  const { later, settle } = createAfterResponse(logger);

  async function sendLink(user: UserRow): Promise<void> {
    const token = generateToken();
    const now = clock();
    const expiresAt = now + config.emailVerification.ttlMs;
    await store.tokens.createEmailToken({ tokenHash: hashToken(token), kind: "verify", userId: user.id, email: user.email, createdAt: now, expiresAt });
    const hours = Math.round(config.emailVerification.ttlMs / 3_600_000);
    await mailer.send({
      to: user.email,
      subject: "Confirm your email address",
      text: [
        "Someone (hopefully you) signed up with this address.",
        `To confirm that it is yours, open this link within ${hours} hours and press the button on the page:`,
        "",
        `${linkBase(config)}/verify-email?token=${token}`,
        "",
        "If you did not sign up, ignore this message.",
      ].join("\n"),
    });
    logger.info({ event: "email_verification.sent", userId: user.id });
  }

  return {
    mode: config.emailVerification.mode,

    /** After a signup: mails the link (not with EMAIL_VERIFICATION=off). */
    afterSignup(user: UserRow): void {
      if (config.emailVerification.mode === "off") return;
      later("email_verification.send_failed", () => sendLink(user));
    },

    /** A new link for this address if it names an unverified account; the caller answers the same either way. */
    resend(email: string): void {
      if (config.emailVerification.mode === "off") return;
      later("email_verification.send_failed", async () => {
        const user = await store.findUserByEmail(email);
        if (user && user.emailVerifiedAt === null) await sendLink(user);
      });
    },

    /**
     * EMAIL_VERIFICATION=required, a signup with a taken address: its owner
     * learns of it (and can reset the password if they forgot they have an
     * account); the request got the same answer as a new address.
     */
    async noticeTakenAddress(email: string, context: EventContext): Promise<void> {
      const owner = await store.findUserByEmail(email);
      if (!owner) return;
      // Written before the answer, as a new address's user row is: the two cost about the same.
      await store.events.append(newEvent("signup.address_taken", clock(), context, owner.id));
      later("signup_notice.send_failed", async () => {
        await mailer.send({
          to: owner.email,
          subject: "Someone tried to sign up with your address",
          text: [
            "Someone tried to create an account with this address, which already has one.",
            "If it was you: sign in instead, or reset your password if you forgot it:",
            "",
            `${linkBase(config)}/forgot-password`,
            "",
            "If it was not you, nothing has changed: your account and password are as they were.",
          ].join("\n"),
        });
      });
    },

    /** Spends a link: the user whose address it proved, or null (unknown, used, expired, or the address changed since). */
    async verify(token: string, context: EventContext): Promise<UserRow | null> {
      if (!isWellFormedToken(token)) return null;
      const now = clock();
      const link = await store.tokens.consumeEmailToken(hashToken(token), "verify", now);
      if (!link) return null;
      if (!(await store.markEmailVerified(link.userId, link.email, now, newEvent("email.verified", now, context, link.userId)))) return null;
      return store.findUserById(link.userId);
    },

    /** Waits for mails still being sent (graceful stop, tests). */
    settle,
  };
}

export type EmailVerification = ReturnType<typeof createEmailVerification>;
