// Changing your own credentials and closing your own account. Both ask for
// the current password again: a stolen session alone must not be enough.
import { Hono } from "hono";
import type { Context } from "hono";
import type { Authenticated } from "../auth/authenticate.js";
import { revokeUserTokens } from "../auth/bearer.js";
import { clearSessionCookie, sessionCookie } from "../auth/cookies.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { parseJsonBody } from "../http/body.js";
import { attemptLogin } from "../auth/credentials.js";
import { checkNewPassword } from "../auth/password-policy.js";
import { json, jsonError } from "../http/responses.js";
import { changePasswordBody, deleteAccountBody } from "../schemas.js";
import type { UserRow } from "../store/store.js";

export function accountRoutes(deps: Deps) {
  const { store, sessions, passwords, cookies, clock, logger } = deps;
  const cookieMaxAge = Math.floor(deps.config.session.absoluteLifetimeMs / 1000);
  const app = new Hono<AppEnv>();

  /**
   * The user's stored row when the password is theirs; the 401 (or 429) otherwise.
   * Counts toward the login limits, so a stolen session cannot be used to guess the password.
   */
  async function confirmPassword(c: Context<AppEnv>, auth: Authenticated, password: string, error: string): Promise<UserRow | Response> {
    const attempt = { email: auth.user.email, ip: deps.clientIp(c) };
    const row = await attemptLogin(deps, attempt, password, error);
    if (row instanceof Response || row.id !== auth.user.id) {
      logger.info({ event: "password.confirm_failure", requestId: c.get("requestId"), userId: auth.user.id });
      return row instanceof Response ? row : jsonError(401, error);
    }
    return row;
  }

  app.post("/password", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const body = await parseJsonBody(c.req.raw, changePasswordBody);
    if (body instanceof Response) return body;
    const row = await confirmPassword(c, auth, body.currentPassword, "Current password is incorrect");
    if (row instanceof Response) return row;
    const weak = checkNewPassword(body.newPassword, row.email, { rejectCommon: deps.config.rejectCommonPasswords }, "newPassword");
    if (weak) return weak;
    const newHash = await passwords.hash(body.newPassword);
    // Whoever else holds a session or a bearer token (perhaps the reason for
    // the change) is out, BEFORE the new password is written: should anything
    // below fail, no stolen credential outlives the change. Once more after
    // the write, for a login that checked the old password in between (logins
    // re-check the hash after issuing, so none can slip past the second pass).
    // This browser keeps going on a brand-new token.
    const endOthers = async () => {
      await revokeUserTokens(deps, row.id);
      await sessions.revokeOthers(row.id, auth.session.tokenHash);
    };
    await endOthers();
    const now = clock();
    await store.setPasswordHash(row.id, newHash, now);
    await endOthers();
    const { token } = await sessions.rotate(auth.session, { userAgent: c.req.header("user-agent"), ip: deps.clientIp(c) });
    logger.info({ event: "password.changed", requestId: c.get("requestId"), userId: row.id });
    const user = toPublicUser({ ...row, updatedAt: now });
    return json({ user }, 200, { "set-cookie": sessionCookie(token, cookieMaxAge, cookies) });
  });

  app.delete("/me", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const body = await parseJsonBody(c.req.raw, deleteAccountBody);
    if (body instanceof Response) return body;
    const row = await confirmPassword(c, auth, body.password, "Password is incorrect");
    if (row instanceof Response) return row;
    // The store deletes the sessions (and bearer credentials) with the user, and refuses atomically if this is the last admin.
    const result = await store.deleteUser(row.id);
    if (result === "last_admin") return jsonError(409, "Cannot remove the last admin");
    logger.info({ event: "account.deleted", requestId: c.get("requestId"), userId: row.id });
    return json({ message: "Account deleted" }, 200, { "set-cookie": clearSessionCookie(cookies) });
  });

  return app;
}
