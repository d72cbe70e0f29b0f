// Changing the address of an account, safely:
//  1. POST /email (signed in, current password): a confirmation link goes to
//     the NEW address, a notice with a "this wasn't me" link to the OLD one.
//     Nothing changes yet.
//  2. The new address's link (its page's button POSTs the token): the address
//     changes, proven, and every other session and token of the account ends.
//     The unique constraint decides a race: two accounts never share one.
//  3. The old address's "this wasn't me" link: the account gets its old
//     address back (if no one took it meanwhile), every session and token
//     ends, the password is replaced by a random one nobody knows, and a reset
//     link goes to the old address. Its owner is back in control.
// Links: 256-bit, stored as SHA-256, single use, EMAIL_VERIFICATION_TTL (a
// notice's link lives as long, since the owner may read mail late), a newer
// one voids the older of its kind. Mails go out after the response.
import { linkBase } from "../base-path.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { newEvent, type EventContext } from "../events.js";
import type { Logger } from "../log.js";
import type { Mailer } from "../mail.js";
import { EmailTakenError, type SessionRow, type Store, type UserRow } from "../store/store.js";
import type { EmailTokenKind } from "../store/token-store.js";
import type { Accounts } from "./accounts.js";
import { createAfterResponse } from "./after-response.js";
import type { PasswordResets } from "./reset.js";
import { generateToken, hashToken, isWellFormedToken } from "./tokens.js";

/** Where every "this wasn't me" link points (its page POSTs /not-me). */
export const NOT_ME_PATH = "/not-me";

export interface EmailChangeDeps {
  config: Pick<Config, "port" | "publicUrl" | "emailVerification" | "notices"> & Partial<Pick<Config, "basePath">>;
  store: Store;
  accounts: Pick<Accounts, "endSessions" | "setPassword">;
  resets: Pick<PasswordResets, "requestReset">;
  mailer: Mailer;
  clock: Clock;
  logger: Logger;
}

export function createEmailChanges(deps: EmailChangeDeps) {
  const { config, store, accounts, resets, mailer, clock, logger } = deps;
  const { later, settle } = createAfterResponse(logger);

  /** A fresh link of this kind for the user, naming `email`; returns its URL. */
  async function link(kind: EmailTokenKind, userId: string, email: string, path: string): Promise<string> {
    const token = generateToken();
    const now = clock();
    await store.tokens.createEmailToken({ tokenHash: hashToken(token), kind, userId, email, createdAt: now, expiresAt: now + config.emailVerification.ttlMs });
    return `${linkBase(config)}${path}?token=${token}`;
  }

  const spend = (token: string, kind: EmailTokenKind) =>
    isWellFormedToken(token) ? store.tokens.consumeEmailToken(hashToken(token), kind, clock()) : Promise.resolve(null);

  return {
    /** A "this wasn't me" link for a security notice to the account's address. */
    notMeLink: (user: Pick<UserRow, "id" | "email">) => link("not_me", user.id, user.email, NOT_ME_PATH),

    /**
     * Starts a change (the password was checked by the caller). An address
     * that belongs to another account gets no link (the confirmation could
     * only fail); the answer is the same either way.
     */
    async request(user: UserRow, newEmail: string, context: EventContext): Promise<void> {
      await store.events.append(newEvent("email.change_requested", clock(), context, user.id));
      later("email_change.send_failed", async () => {
        if (!(await store.findUserByEmail(newEmail))) {
          await mailer.send({
            to: newEmail,
            subject: "Confirm your new email address",
            text: [
              `Someone (hopefully you) asked to move the account of ${user.email} to this address.`,
              "To confirm, open this link and press the button on the page:",
              "",
              await link("email_change", user.id, newEmail, "/confirm-email"),
              "",
              "If you did not ask for this, ignore this message: nothing changes.",
            ].join("\n"),
          });
        }
        if (!config.notices.emailChanged) return;
        await mailer.send({
          to: user.email,
          subject: "Your email address is about to change",
          text: [
            `Someone signed in to your account asked to change its address to ${newEmail}.`,
            "It changes only once that address confirms it. If this was not you, open this link and press the button:",
            "",
            await link("not_me", user.id, user.email, NOT_ME_PATH),
            "",
            "That keeps this address on the account, signs every device out, and sends you a link to choose a new password.",
          ].join("\n"),
        });
      });
    },

    /**
     * Spends a confirmation link: the account takes the address (proven), and
     * every other session and token ends (`keep`: the confirming browser's own
     * session, if it is this account's). "taken" when another account got the
     * address first; null for an unknown, used or expired link.
     */
    async confirm(token: string, context: EventContext, keep?: SessionRow): Promise<UserRow | "taken" | null> {
      const found = await spend(token, "email_change");
      if (!found) return null;
      const now = clock();
      try {
        if (!(await store.setEmail(found.userId, found.email, now, now, newEvent("email.changed", now, context, found.userId)))) return null;
      } catch (err) {
        if (err instanceof EmailTakenError) return "taken";
        throw err;
      }
      await accounts.endSessions(found.userId, keep?.userId === found.userId ? { keep } : {});
      return store.findUserById(found.userId);
    },

    /**
     * "This wasn't me": the old address back (unless another account has it
     * now), every session and token ended, an unknown password, and a reset
     * link to that address. False for an unknown, used or expired link.
     */
    async notMe(token: string, context: EventContext): Promise<boolean> {
      const found = await spend(token, "not_me");
      if (!found) return false;
      const user = await store.findUserById(found.userId);
      if (!user) return false;
      let current = user;
      if (user.email !== found.email) {
        const now = clock();
        try {
          await store.setEmail(user.id, found.email, now, now);
          current = { ...user, email: found.email };
        } catch (err) {
          if (!(err instanceof EmailTakenError)) throw err; // someone else took it meanwhile: the account keeps the new one
        }
      }
      // A password nobody knows ends every session, token and reset link (setPassword), recorded as this event.
      const changed = await accounts.setPassword(current, generateToken(), { context, reason: "not_me" });
      if ("refused" in changed) throw new Error("a random password was refused");
      resets.requestReset(current.email, context);
      logger.warn({ event: "account.not_me", userId: user.id });
      return true;
    },

    settle,
  };
}

export type EmailChanges = ReturnType<typeof createEmailChanges>;
