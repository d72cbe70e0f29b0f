// The course's `User | Response` pattern on a Fetch Request: either the
// fact the handler needs, or the response that ends the request.
import { unauthorized } from "../http/responses.js";
import { jsonError } from "../http/responses.js";
import type { Role, SessionRow } from "../store/store.js";
import type { User } from "../schemas.js";
import { clearSessionCookie, readSessionCookie, type CookieOptions } from "./cookies.js";
import type { SessionManager } from "./sessions.js";
import { toPublicUser } from "./users.js";

export interface Authenticated {
  user: User;
  /** The server-side session row (its tokenHash is not a credential, but keep it out of responses). */
  session: SessionRow;
}

export function createAuthenticator(sessions: SessionManager, cookies: CookieOptions) {
  /** The signed-in user and session, or a 401 (clearing a dead cookie). */
  return async function authenticate(request: Request): Promise<Authenticated | Response> {
    const cookie = readSessionCookie(request, cookies);
    if (cookie.kind === "none") return unauthorized();
    const found = cookie.kind === "token" ? await sessions.validate(cookie.token) : null;
    if (!found) return unauthorized({ "set-cookie": clearSessionCookie(cookies) });
    return { user: toPublicUser(found.user), session: found.session };
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/** 403 unless the authenticated user has one of the roles. */
export function requireRole(auth: Authenticated, ...roles: Role[]): Response | null {
  return roles.includes(auth.user.role) ? null : jsonError(403, "Forbidden");
}
