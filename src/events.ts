// The security events Latchkey records (README "Events" has this table),
// and how a request's context becomes part of one. The store writes them
// (store/event-store.ts); the account lifecycle and the routes say which.
import { iso } from "./auth/users.js";
import type { PublicEvent } from "./schemas.js";
import type { EventDetails, EventRow, NewEvent } from "./store/event-store.js";

/** Every event type, with what it means. */
export const EVENT_TYPES = {
  signup: "An account was created (details.via: signup, cli or bootstrap)",
  "login.success": "A password was accepted and a session or token pair issued (details.client: cookie or bearer)",
  "login.failure": "A wrong password for an existing account, or an unknown email (userId null)",
  "login.locked": "Repeated failures locked sign-in for the account (details.scope: account, or client for one address)",
  logout: "A session was ended by logging out (details.client: cookie or bearer)",
  "session.revoked": "One session was ended from the session list",
  "sessions.revoked": "Every session of the account ended (details.scope: all, or others: all but the current one)",
  "sessions.revoked_everywhere": "Every session of every account ended (userId null)",
  "password.changed": "The password was changed by its owner",
  "password.reset": "The password was set through a reset link",
  "password.reset_requested": "A reset link was sent",
  "password.confirm_failure": "A wrong current password was given for a password change or an account deletion",
  "role.changed": "The role changed (details.from, details.to)",
  "account.deleted": "The account was deleted",
  "token.reuse_detected": "A refresh token that had already been used came back: its family was ended",
  "email.verified": "The address was proven by its verification link",
  "login.unverified": "A right password for an account whose address is not verified yet (EMAIL_VERIFICATION=required): no session",
  "signup.address_taken": "Someone tried to sign up with this account's address (EMAIL_VERIFICATION=required); its owner was told",
  "email.change_requested": "A new address was asked for (POST /email); links went to the new and the old address",
  "email.changed": "The new address confirmed the change",
  "account.not_me": "The owner said a change was not theirs: old address back, every session ended, password replaced, a reset link sent",
  "mfa.totp_enabled": "An authenticator app was confirmed as the account's second factor; recovery codes were issued",
  "mfa.totp_disabled": "The authenticator app and the recovery codes were removed (by the owner, or an admin: actorId)",
  "mfa.recovery_codes_regenerated": "New recovery codes replaced the old ones",
  "mfa.recovery_code_used": "A recovery code was used to sign in or re-authenticate (details.remaining)",
  "login.mfa_failure": "A wrong or replayed second-factor code at the second step of a sign-in or a re-authentication",
  "account.invited": "An admin invited the address: the account exists, and a link to choose a password was mailed (details.role)",
  "impersonation.started": "An admin (actorId) signed in as the user (sessionId: that session); the user was mailed",
  "impersonation.ended": "The admin stopped signing in as the user (or the session ended)",
  "account.disabled": "An admin disabled the account (details.reason, details.until): its sessions and tokens ended",
  "account.enabled": "An admin enabled the account again",
  "login.disabled": "A right password for a disabled account: no session",
  "session.reauthenticated": "The user proved who they are again (POST /reauth); the session went on under a new token (details.aal)",
} as const;

export type EventType = keyof typeof EVENT_TYPES;

/** Who acted and from where: what a request (or the CLI) knows about an event. */
export interface EventContext {
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  /** The admin acting on someone else's account. */
  actorId?: string | null | undefined;
  /** The current session's public id. */
  sessionId?: string | null | undefined;
  /** "cli" for the command line, "bootstrap" for the first admin from ADMIN_EMAIL. */
  via?: "cli" | "bootstrap" | "invite" | undefined;
}

const MAX_USER_AGENT = 512;

/** An event of `type` about `userId` at `at`, in this context. */
export function newEvent(
  type: EventType,
  at: number,
  context: EventContext,
  userId: string | null,
  details: EventDetails = {},
): NewEvent {
  return {
    type,
    at,
    userId,
    actorId: context.actorId ?? null,
    sessionId: context.sessionId ?? null,
    ip: context.ip ?? null,
    userAgent: context.userAgent ? context.userAgent.slice(0, MAX_USER_AGENT) : null,
    details: context.via ? { ...details, via: context.via } : details,
  };
}

/** The event as the API, the CLI and webhooks show it: ISO time, no internal sequence number. */
export function toPublicEvent(e: EventRow): PublicEvent {
  return {
    id: e.id,
    type: e.type,
    at: iso(e.at),
    userId: e.userId,
    actorId: e.actorId,
    sessionId: e.sessionId,
    ip: e.ip,
    userAgent: e.userAgent,
    details: e.details,
  };
}
