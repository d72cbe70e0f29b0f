// Security notices: a mail to the account's address when something that only
// its owner should do happens (NOTIFY_PASSWORD_CHANGED, NOTIFY_NEW_DEVICE;
// the email-change notice is part of auth/email-change.ts). Each carries a
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

/** How many of the account's latest sign-ins count as "seen before". */
const KNOWN_DEVICE_HISTORY = 100;

export function createNotices(deps: NoticeDeps) {
  const { config, store, emailChanges, mailer, logger } = deps;
  const { later, settle } = createAfterResponse(logger);

  async function send(user: UserRow, subject: string, lines: string[]): Promise<void> {
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
      later("notice.password_changed", () => send(user, "Your password was changed", [`The password of your account was changed, on ${where(context)}.`]));
    },

    /**
     * After a sign-in: a notice when its user agent is not among the
     * account's earlier sign-ins (or its signup). The first sign-in of an
     * account is never "new": there is nothing to compare it with.
     */
    signedIn(user: UserRow, context: EventContext): void {
      if (!config.notices.newDevice || !context.userAgent) return;
      later("notice.new_device", async () => {
        const { events } = await store.events.list({ userId: user.id, types: ["login.success", "signup"], limit: KNOWN_DEVICE_HISTORY + 1 });
        const earlier = events.slice(1); // the first is this sign-in
        if (earlier.length === 0 || earlier.some((e) => e.userAgent === context.userAgent)) return;
        await send(user, "New sign-in to your account", [`Your account was signed in to on ${where(context)}, a device not seen before on it.`]);
      });
    },

    settle,
  };
}

export type Notices = ReturnType<typeof createNotices>;
