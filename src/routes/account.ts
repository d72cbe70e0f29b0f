// Changing your own credentials and closing your own account. Both ask for
// the current password again: a stolen session alone must not be enough.
import { Hono } from "hono";
import type { Context } from "hono";
import type { Authenticated } from "../auth/authenticate.js";
import { clearSessionCookie, sessionCookie } from "../auth/cookies.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { attemptLogin } from "../auth/credentials.js";
import { json } from "../http/responses.js";
import { refuse, type RefusalCode } from "../refusals.js";
import { changePasswordBody, deleteAccountBody } from "../schemas.js";
import type { UserRow } from "../store/store.js";

export function accountRoutes(deps: Deps) {
  const { accounts, cookies, logger } = deps;
  const app = new Hono<AppEnv>();

  /**
   * The user's stored row when the password is theirs; the 401 (or 429) otherwise.
   * Counts toward the login limits, so a stolen session cannot be used to guess the password.
   */
  async function confirmPassword(c: Context<AppEnv>, auth: Authenticated, password: string, wrong: RefusalCode): Promise<UserRow | Response> {
    const attempt = { email: auth.user.email, ip: deps.clientIp(c) };
    const row = await attemptLogin(deps, attempt, password, wrong);
    if (row instanceof Response || row.id !== auth.user.id) {
      logger.info({ event: "password.confirm_failure", requestId: c.get("requestId"), userId: auth.user.id });
      return row instanceof Response ? row : refuse(wrong);
    }
    return row;
  }

  app.post("/password", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const body = await parseJsonBody(c.req.raw, changePasswordBody);
    if (body instanceof Response) return body;
    const row = await confirmPassword(c, auth, body.currentPassword, "wrongCurrentPassword");
    if (row instanceof Response) return row;
    // Every other session and bearer credential ends; this browser goes on under a new token.
    const meta = { userAgent: c.req.header("user-agent"), ip: deps.clientIp(c) };
    const changed = await accounts.setPassword(row, body.newPassword, { keep: auth.session, meta });
    if ("refused" in changed) return invalidBody([{ path: "newPassword", message: changed.reason }]);
    logger.info({ event: "password.changed", requestId: c.get("requestId"), userId: row.id });
    return json({ user: toPublicUser(changed.user) }, 200, { "set-cookie": sessionCookie(changed.token!, cookies) });
  });

  app.delete("/me", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const body = await parseJsonBody(c.req.raw, deleteAccountBody);
    if (body instanceof Response) return body;
    const row = await confirmPassword(c, auth, body.password, "wrongPassword");
    if (row instanceof Response) return row;
    const result = await accounts.remove(row.id); // refused atomically for the last admin
    if (result === "last_admin") return refuse("lastAdmin");
    logger.info({ event: "account.deleted", requestId: c.get("requestId"), userId: row.id });
    return json({ message: "Account deleted" }, 200, { "set-cookie": clearSessionCookie(cookies) });
  });

  return app;
}
