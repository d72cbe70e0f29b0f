// "Recent activity" on the account page: the user's own events in words,
// with device and address, a run of failed sign-ins shown as one line.
import type { EventRow } from "../store/event-store.js";

export interface ActivityItem {
  text: string;
  /** ISO time of the (latest) event. */
  at: string;
  device: string | null;
  ip: string | null;
}

/** "Firefox on Linux" from a User-Agent (the same rules as the session list in app.js). */
export function describeAgent(ua: string | null): string | null {
  if (!ua) return null;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : /curl\//.test(ua) ? "curl" : "A client";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

function sentence(e: EventRow): string {
  switch (e.type) {
    case "signup": return "Account created";
    case "login.success": return e.details.client === "bearer" ? "Signed in (app token)" : "Signed in";
    case "login.locked": return "Sign-in locked after repeated failed attempts";
    case "logout": return "Signed out";
    case "session.revoked": return "A session was ended";
    case "sessions.revoked": return e.details.scope === "others" ? "Signed out of every other session" : "Signed out everywhere";
    case "password.changed": return "Password changed";
    case "password.reset": return "Password reset with an emailed link";
    case "password.reset_requested": return "Password reset link sent";
    case "password.confirm_failure": return "Wrong current password entered";
    case "role.changed": return `Role changed from ${e.details.from} to ${e.details.to}`;
    case "account.deleted": return "Account deleted";
    case "token.reuse_detected": return "A sign-in token was used twice: that sign-in was ended";
    case "email.verified": return "Email address verified";
    case "login.unverified": return "Sign-in refused until the email address is verified";
    case "signup.address_taken": return "Someone tried to sign up with your address";
    case "email.change_requested": return "A change of email address was asked for";
    case "email.changed": return "Email address changed";
    case "account.not_me": return "You reported a change that was not yours: every device was signed out";
    case "mfa.totp_enabled": return "Two-factor authentication turned on";
    case "mfa.totp_disabled": return "Two-factor authentication turned off";
    case "mfa.recovery_codes_regenerated": return "New recovery codes made";
    case "mfa.recovery_code_used": return "A recovery code was used";
    case "login.mfa_failure": return "Wrong two-factor code entered";
    case "session.reauthenticated": return "Identity confirmed again";
    case "account.invited": return "Invited by an administrator";
    case "impersonation.started": return "An administrator was signed in as you";
    case "impersonation.ended": return "The administrator signed out of your account";
    case "account.disabled": return "Account disabled";
    case "account.enabled": return "Account enabled again";
    case "login.disabled": return "Sign-in refused: the account is disabled";
    default: return e.type;
  }
}

function by(e: EventRow): string {
  if (e.type.startsWith("impersonation.")) return ""; // the sentence names the administrator already
  if (e.actorId !== null) return " by an administrator";
  if (e.details.via === "cli") return " by an operator";
  return "";
}

/** Newest first, as the events come; consecutive failed sign-ins become one line. */
export function describeActivity(events: EventRow[]): ActivityItem[] {
  const items: ActivityItem[] = [];
  let failures = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === "login.failure") {
      failures++;
      const next = events[i + 1];
      if (next?.type === "login.failure") continue;
      const first = events[i - failures + 1]!; // the newest of the run
      items.push({
        text: failures === 1 ? "Failed sign-in attempt" : `${failures} failed sign-in attempts`,
        at: new Date(first.at).toISOString(),
        device: describeAgent(first.userAgent),
        ip: first.ip,
      });
      failures = 0;
      continue;
    }
    items.push({ text: sentence(e) + by(e), at: new Date(e.at).toISOString(), device: describeAgent(e.userAgent), ip: e.ip });
  }
  return items;
}
