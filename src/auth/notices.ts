// Security notices: a mail to the account's address when something that only
// its owner should do happens (NOTIFY_PASSWORD_CHANGED, NOTIFY_NEW_DEVICE, NOTIFY_MFA_CHANGED, NOTIFY_IMPERSONATION;
// the email-change notice, NOTIFY_EMAIL_CHANGED, is part of auth/email-change.ts). Each carries a
// "this wasn't me" link. Sent after the response; a failure is logged only.
import type { Config } from "../config.js";
import type { EventContext } from "../events.js";
import type { Logger } from "../log.js";
import type { Mailer } from "../mail.js";
import { describeAgent } from "../pages/activity.js";
import type { Store, UserRow } from "../store/store.js";
import { createAfterResponse } from "./after-response.js";
import type { EmailChanges } from "./email-change.js";

export interface NoticeDeps {
  config: Pick<Config, "notices">;
  store: Store;
  emailChanges: Pick<EmailChanges, "notMeLink">;
  mailer: Mailer;
  logger: Logger;
}

/** Whom a notice goes to: the account's id (for its link) and address. */
type Recipient = Pick<UserRow, "id" | "email">;

const SIGN_INS = ["login.success", "signup"];

export function createNotices(deps: NoticeDeps) {
  const { config, store, emailChanges, mailer, logger } = deps;
  const { later, settle } = createAfterResponse(logger);

  async function send(user: Recipient, subject: string, lines: string[]): Promise<void> {
    const link = await emailChanges.notMeLink(user);
    await mailer.send({
      to: user.email,
      subject,
      text: [...lines, "", "If this was not you, open this link and press the button: every device is signed out and you choose a new password.", "", link].join("\n"),
    });
  }

  const where = (context: EventContext) => [describeAgent(context.userAgent ?? null) ?? "an unknown device", context.ip ? `from ${context.ip}` : ""].filter(Boolean).join(" ");

  return {
    passwordChanged(user: UserRow, context: EventContext): void {
      if (!config.notices.passwordChanged) return;
      later("notice.password_changed.send_failed", () => send(user, "Your password was changed", [`The password of your account was changed, on ${where(context)}.`]));
    },

    /** Two-factor authentication turned on or off, by the owner or an admin, or a recovery code used (NOTIFY_MFA_CHANGED). */
    secondFactorChanged(user: Recipient, change: "enabled" | "disabled" | "removed_by_admin" | "recovery_code_used", context: EventContext): void {
      if (!config.notices.mfaChanged) return;
      const what = {
        enabled: ["Two-factor authentication was turned on", "Two-factor authentication was turned on for your account"],
        disabled: ["Two-factor authentication was turned off", "Two-factor authentication was turned off for your account"],
        removed_by_admin: ["Your second factor was removed", "An administrator removed the authenticator app and recovery codes of your account"],
        recovery_code_used: ["A recovery code was used", "One of your recovery codes was used on your account"],
      }[change];
      later(`notice.mfa_${change}.send_failed`, () => send(user, what[0]!, [`${what[1]}, on ${where(context)}.`]));
    },

    /** An administrator signed in as the user (NOTIFY_IMPERSONATION). */
    impersonated(user: Recipient, context: EventContext): void {
      if (!config.notices.impersonation) return;
      later("notice.impersonation.send_failed", () =>
        send(user, "An administrator signed in as you", [
          `An administrator of this service signed in to your account as you, on ${where(context)}.`,
          "They cannot change your password, address, second factors or delete the account while doing so; your account's activity shows what they did.",
        ]),
      );
    },

    /**
     * After a sign-in: a notice when no earlier sign-in of the account (nor
     * its signup) had this user agent. The first sign-in of an account is
     * never "new": there is nothing to compare it with. The usual case (a
     * known device) is one indexed read of two rows, after the response.
     */
    signedIn(user: UserRow, context: EventContext): void {
      const userAgent = context.userAgent;
      if (!config.notices.newDevice || !userAgent) return;
      later("notice.new_device.send_failed", async () => {
        const seen = await store.events.list({ userId: user.id, types: SIGN_INS, userAgent, limit: 2 }); // this sign-in is one
        if (seen.events.length > 1) return;
        const any = await store.events.list({ userId: user.id, types: SIGN_INS, limit: 2 });
        if (any.events.length < 2) return;
        await send(user, "New sign-in to your account", [`Your account was signed in to on ${where(context)}, a device not seen before on it.`]);
      });
    },

    settle,
  };
}

export type Notices = ReturnType<typeof createNotices>;
