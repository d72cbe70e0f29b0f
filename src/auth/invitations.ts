// Invitations: an admin invites an address; the account exists at once (the
// admin vouches for the address, so it counts as verified) with a random
// password nobody knows, and the invitee chooses theirs through a one-time
// link, scanner-safe like every other (its page POSTs /reset-password).
// With SIGNUP=invite this is the only way in.
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { linkBase } from "../base-path.js";
import { newEvent, type EventContext } from "../events.js";
import type { Logger } from "../log.js";
import type { Mailer } from "../mail.js";
import type { Role, Store, UserRow } from "../store/store.js";
import { isRefusal, type Accounts } from "./accounts.js";
import { createAfterResponse } from "./after-response.js";
import { generateToken, hashToken } from "./tokens.js";

/** Where an invitation's link points (its page POSTs /reset-password). */
export const ACCEPT_INVITE_PATH = "/accept-invite";

export interface InvitationDeps {
  config: Pick<Config, "port" | "publicUrl" | "invitations"> & Partial<Pick<Config, "basePath">>;
  store: Store;
  accounts: Pick<Accounts, "create">;
  mailer: Mailer;
  clock: Clock;
  logger: Logger;
}

export function createInvitations(deps: InvitationDeps) {
  const { config, store, accounts, mailer, clock, logger } = deps;
  const { later, settle } = createAfterResponse(logger);

  return {
    /**
     * Creates the invited account and mails its link (after the response).
     * "email_taken" when an account has the address already.
     */
    async invite(email: string, role: Role, context: EventContext): Promise<UserRow | "email_taken"> {
      const user = await accounts.create({ email, password: generateToken(), role, verified: true }, { ...context, via: "invite" });
      if (isRefusal(user)) return "email_taken"; // a random 43-character password is never weak
      const token = generateToken();
      const now = clock();
      const expiresAt = now + config.invitations.ttlMs;
      await store.tokens.createResetToken({ tokenHash: hashToken(token), userId: user.id, createdAt: now, expiresAt });
      await store.events.append(newEvent("account.invited", now, context, user.id, { role }));
      later("invitation.send_failed", () =>
        mailer.send({
          to: email,
          subject: "You are invited",
          text: [
            "An administrator created an account for this address.",
            `To choose your password and sign in, open this link before ${new Date(expiresAt).toISOString().slice(0, 16).replace("T", " ")} UTC (it works once):`,
            "",
            `${linkBase(config)}${ACCEPT_INVITE_PATH}?token=${token}`,
            "",
            "If you did not expect this, ignore this message.",
          ].join("\n"),
        }),
      );
      return user;
    },

    /** Waits for invitation mails still being sent (graceful stop, tests). */
    settle,
  };
}

export type Invitations = ReturnType<typeof createInvitations>;
