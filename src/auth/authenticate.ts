// The course's `User | Response` pattern on a Fetch Request: either the
// fact the handler needs, or the response that ends the request.
import { refuse } from "../refusals.js";
import type { Role, SessionRow } from "../store/store.js";
import type { User } from "../schemas.js";
import { clearSessionCookie, readSessionCookie, type CookieOptions } from "./cookies.js";
import { reauthRefusal, type ReauthDeps } from "./reauth.js";
import type { SessionManager } from "./sessions.js";
import { toPublicUser } from "./users.js";

export interface Authenticated {
  user: User;
  /** The server-side session row (its tokenHash is not a credential, but keep it out of responses). */
  session: SessionRow;
}

/**
 * What a Cookie header proves: the signed-in user, or why not: "none" (no
 * session cookie, or an ambiguous header: nothing of ours to clear) or "dead"
 * (a session cookie to clear: malformed, unknown, expired or revoked).
 */
export type SessionCheck = Authenticated | "none" | "dead";

export function createSessionCheck(sessions: SessionManager, cookies: CookieOptions) {
  return async function checkSession(cookieHeader: string | null | undefined): Promise<SessionCheck> {
    const cookie = readSessionCookie(cookieHeader, cookies);
    if (cookie.kind === "none" || cookie.kind === "ambiguous") return "none";
    const found = cookie.kind === "token" ? await sessions.validate(cookie.token) : null;
    if (!found) return "dead";
    return { user: toPublicUser(found.user), session: found.session };
  };
}

export type CheckSession = ReturnType<typeof createSessionCheck>;

export function createAuthenticator(checkSession: CheckSession, cookies: CookieOptions) {
  /** The signed-in user and session, or a 401 (clearing a dead cookie). */
  return async function authenticate(request: Request): Promise<Authenticated | Response> {
    const result = await checkSession(request.headers.get("cookie"));
    if (result === "none") return refuse("unauthorized");
    if (result === "dead") return refuse("unauthorized", undefined, { "set-cookie": clearSessionCookie(cookies) });
    return result;
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/** 403 unless the authenticated user has one of the roles. */
export function requireRole(auth: Authenticated, ...roles: Role[]): Response | null {
  return roles.includes(auth.user.role) ? null : refuse("forbidden");
}

export interface AdminAuthDeps extends ReauthDeps {
  authenticate: Authenticate;
}

/**
 * The signed-in admin, or the 401/403 that ends the request. With
 * MFA_REQUIRED_FOR_ADMINS an admin without a second factor gets 403 until
 * they enrol one; every admin write (any method but GET and HEAD) also needs
 * a fresh re-authentication (auth/reauth.ts).
 */
export async function authenticateAdmin(deps: AdminAuthDeps, request: Request): Promise<Authenticated | Response> {
  const auth = await deps.authenticate(request);
  if (auth instanceof Response) return auth;
  const notAdmin = requireRole(auth, "admin");
  if (notAdmin) return notAdmin;
  const write = request.method !== "GET" && request.method !== "HEAD";
  const { requiredForAdmins } = deps.config.mfa;
  if (!write && !requiredForAdmins) return auth;
  const methods = await deps.mfa.methods(auth.user.id); // one read serves both checks
  if (requiredForAdmins && methods.length === 0) return refuse("mfaRequiredForAdmins");
  return write ? ((await reauthRefusal(deps, auth, { methods })) ?? auth) : auth;
}
