// Changing your own credentials and closing your own account. Both ask for
// the current password again: a stolen session alone must not be enough.
import type { Context } from "hono";
import type { Authenticated } from "../auth/authenticate.js";
import { clearSessionCookie, sessionCookie } from "../auth/cookies.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { attemptLogin } from "../auth/credentials.js";
import { reauthRefusal } from "../auth/reauth.js";
import { eventContext } from "../http/event-context.js";
import { json } from "../http/responses.js";
import { CLEAR_COOKIE, COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, SET_COOKIE, userBody } from "../http/route.js";
import { refuse, type RefusalCode } from "../refusals.js";
import { changeEmailBody, changePasswordBody, deleteAccountBody } from "../schemas.js";
import type { UserRow } from "../store/store.js";

export function accountRoutes(deps: Deps) {
  const { accounts, cookies, logger } = deps;
  const r = routeGroup<AppEnv>();

  /**
   * The user's stored row when the password is theirs; the 401 (or 429) otherwise.
   * Counts toward the login limits, so a stolen session cannot be used to guess the password.
   * An account with a second factor also needs a fresh aal2 session (POST /reauth):
   * the password alone proves less than its sign-in did.
   */
  async function confirmPassword(c: Context<AppEnv>, auth: Authenticated, password: string, wrong: RefusalCode): Promise<UserRow | Response> {
    const stale = await reauthRefusal(deps, auth, { passwordGiven: true });
    if (stale) return stale;
    const context = eventContext(c, deps, auth);
    const attempt = { email: auth.user.email, ip: context.ip ?? null };
    const row = await attemptLogin(deps, attempt, password, { refusal: wrong, event: "password.confirm_failure", context });
    if (row instanceof Response || row.id !== auth.user.id) {
      logger.info({ event: "password.confirm_failure", requestId: c.get("requestId"), userId: auth.user.id });
      return row instanceof Response ? row : refuse(wrong);
    }
    return row;
  }

  r.post(
    {
      path: "/password", tag: "Account", auth: "cookie",
      summary: "Change my password",
      description: "Needs the current password. Every other session ends; this one is rotated (a new token in a new cookie; the old cookie is dead).",
      body: changePasswordBody,
      responses: {
        200: { description: "Changed", schema: userBody, headers: SET_COOKIE },
        ...JSON_BODY_ERRORS,
        401: err("Not signed in, or `Current password is incorrect`"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, changePasswordBody);
      if (body instanceof Response) return body;
      const row = await confirmPassword(c, auth, body.currentPassword, "wrongCurrentPassword");
      if (row instanceof Response) return row;
      // Every other session and bearer credential ends; this browser goes on under a new token.
      const context = eventContext(c, deps, auth);
      const changed = await accounts.setPassword(row, body.newPassword, { keep: auth.session, meta: context, context });
      if ("refused" in changed) return invalidBody([{ path: "newPassword", message: changed.reason }]);
      logger.info({ event: "password.changed", requestId: c.get("requestId"), userId: row.id });
      deps.notices.passwordChanged(changed.user, context);
      return json({ user: toPublicUser(changed.user) }, 200, { "set-cookie": sessionCookie(changed.token!, cookies) });
    },
  );

  r.post(
    {
      path: "/email", tag: "Account", auth: "cookie",
      summary: "Change my email address",
      description:
        "Needs the current password. Nothing changes yet: a confirmation link goes to the new address (none if another account has it; the answer is the same), and a notice with a \"this wasn't me\" link to the current one. The address changes when the new one's link is used (POST /email/confirm).",
      body: changeEmailBody,
      responses: {
        202: { description: "Links sent", schema: messageBody },
        ...JSON_BODY_ERRORS,
        401: err("Not signed in, or `Current password is incorrect`"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, changeEmailBody);
      if (body instanceof Response) return body;
      if (body.newEmail === auth.user.email) return invalidBody([{ path: "newEmail", message: "This is already the account's address" }]);
      const row = await confirmPassword(c, auth, body.currentPassword, "wrongCurrentPassword");
      if (row instanceof Response) return row;
      await deps.emailChanges.request(row, body.newEmail, eventContext(c, deps, auth));
      return json({ message: "Check the new address for a link that confirms the change." }, 202);
    },
  );

  r.delete(
    {
      path: "/me", tag: "Account", auth: "cookie",
      summary: "Delete my account",
      description: "Needs the password. Deletes the account and every session of it, and clears the cookie.",
      body: deleteAccountBody,
      responses: {
        200: { description: "Deleted", schema: messageBody, headers: CLEAR_COOKIE },
        ...JSON_BODY_ERRORS,
        401: err("Not signed in, or `Password is incorrect`"),
        409: err("Cannot remove the last admin"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, deleteAccountBody);
      if (body instanceof Response) return body;
      const row = await confirmPassword(c, auth, body.password, "wrongPassword");
      if (row instanceof Response) return row;
      const result = await accounts.remove(row.id, eventContext(c, deps, auth)); // refused atomically for the last admin
      if (result === "last_admin") return refuse("lastAdmin");
      logger.info({ event: "account.deleted", requestId: c.get("requestId"), userId: row.id });
      return json({ message: "Account deleted" }, 200, { "set-cookie": clearSessionCookie(cookies) });
    },
  );

  return r.routes;
}
