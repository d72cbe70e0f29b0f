// Admin user management: the course's capstone routes, hardened. Every route
// answers 401 without a session and 403 without the admin role; the store
// refuses atomically to demote or delete the last admin (409).
import type { Context } from "hono";
import { authenticateAdmin, type Authenticated } from "../auth/authenticate.js";
import { clearSessionCookie } from "../auth/cookies.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { eventContext } from "../http/event-context.js";
import { invalidBody, parseJsonBody, parseQuery, refuseBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { ADMIN_WRITE, CLEAR_COOKIE, COMMON, err, FORBIDDEN, INVALID_QUERY, JSON_BODY_ERRORS, messageBody, revokedBody, routeGroup, UNAUTHORIZED, userBody } from "../http/route.js";
import { z } from "zod";
import { refuse } from "../refusals.js";
import { disableBody, inviteBody, listUsersQuery, setEmailBody, setRoleBody, userSchema } from "../schemas.js";
import { DISABLED_FOREVER, isDisabled, type UserRow } from "../store/store.js";

/** A user as admins see it: the public user and whether (until when) it is disabled. */
const adminUserBody = z.object({
  user: userSchema,
  disabledUntil: z.string().nullable().describe("null: enabled; else when the disabling ends (9999-12-31T23:59:59.999Z: when enabled again)"),
});
const adminView = (user: UserRow, now: number) => ({
  user: toPublicUser(user),
  disabledUntil: isDisabled(user, now) ? new Date(user.disabledUntil!).toISOString() : null,
});

export function adminRoutes(deps: Deps) {
  const { store, accounts, cookies, clock, logger } = deps;
  const r = routeGroup<AppEnv>();

  const signedInAdmin = (c: Context<AppEnv>) => authenticateAdmin(deps, c.req.raw);

  /** The event context of an admin's action: they are its actor. */
  const asAdmin = (c: Context<AppEnv>, auth: Authenticated) => eventContext(c, deps, { session: auth.session, actorId: auth.user.id });

  /** An admin acting on their own account also loses this browser's session: clear its cookie too. */
  const clearIfSelf = (auth: Authenticated, userId: string) =>
    auth.user.id === userId ? { "set-cookie": clearSessionCookie(cookies) } : undefined;

  r.get(
    {
      path: "/users", tag: "Admin", auth: "cookie",
      summary: "List users (admin)",
      description: "Ordered by id. Query: `limit` 1 to 100 (default 20), `cursor` (the previous page's `nextCursor`), `email` (case-insensitive prefix).",
      query: [
        { name: "limit", description: "Page size, 1 to 100 (default 20)", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
        { name: "cursor", description: "The previous page's `nextCursor`", schema: { type: "string" } },
        { name: "email", description: "Case-insensitive email prefix", schema: { type: "string" } },
      ],
      responses: {
        200: { description: "A page of users", schema: z.object({ users: z.array(userSchema), nextCursor: z.string().nullable() }) },
        ...INVALID_QUERY,
        ...UNAUTHORIZED,
        ...FORBIDDEN,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const query = parseQuery(c.req.query(), listUsersQuery);
      if (query instanceof Response) return query;
      const { limit, cursor, email } = query;
      const page = await store.listUsers({ limit, cursor, emailPrefix: email || undefined });
      return json({ users: page.users.map(toPublicUser), nextCursor: page.nextCursor });
    },
  );

  r.get(
    {
      path: "/users/:id", tag: "Admin", auth: "cookie",
      summary: "One user (admin)",
      description: "With `disabledUntil`: null when the account is enabled, else when its disabling ends (`9999-12-31T23:59:59.999Z`: when enabled again).",
      responses: { 200: { description: "The user", schema: adminUserBody }, ...UNAUTHORIZED, ...FORBIDDEN, 404: err("User not found"), ...COMMON },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const user = await store.findUserById(c.req.param("id"));
      return user ? json(adminView(user, clock())) : refuse("userNotFound");
    },
  );

  r.post(
    {
      path: "/users/invite", tag: "Admin", auth: "cookie",
      summary: "Invite an address (admin)",
      description:
        "Creates the account (its address counts as verified: the admin vouches for it) with a password nobody knows, and mails a one-time link (INVITE_TTL, 7 days) whose page lets the invitee choose a password (POST /reset-password). With SIGNUP=invite the only way to make accounts besides the CLI.",
      body: inviteBody,
      responses: {
        201: { description: "Invited", schema: userBody },
        ...JSON_BODY_ERRORS,
        ...ADMIN_WRITE,
        409: err("Email already registered"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, inviteBody);
      if (body instanceof Response) return body;
      const user = await deps.invitations.invite(body.email, body.role, asAdmin(c, auth));
      if (user === "email_taken") return refuse("emailTaken");
      logger.info({ event: "admin.user_invited", requestId: c.get("requestId"), adminId: auth.user.id, userId: user.id });
      return json({ user: toPublicUser(user) }, 201);
    },
  );

  r.post(
    {
      path: "/users/:id/reset-link", tag: "Admin", auth: "cookie",
      summary: "Mail a user a password reset link (admin)",
      description: "The same link POST /forgot-password sends (PASSWORD_RESET_TTL), mailed after the response. Nothing else changes until the user uses it.",
      responses: { 202: { description: "Sent", schema: messageBody }, 400: err("This route takes no request body"), ...ADMIN_WRITE, 404: err("User not found"), ...COMMON },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const refused = await refuseBody(c.req.raw);
      if (refused) return refused;
      const user = await store.findUserById(c.req.param("id"));
      if (!user) return refuse("userNotFound");
      deps.resets.requestReset(user.email, asAdmin(c, auth));
      return json({ message: `A reset link is on its way to ${user.email}` }, 202);
    },
  );

  r.post(
    {
      path: "/users/:id/disable", tag: "Admin", auth: "cookie",
      summary: "Disable a user (admin)",
      description:
        "Every session, bearer token and login challenge of the user ends at once, on every instance; its log-in answers 403 `Account disabled`, only after a right password. " +
        "With `until` (a future ISO date-time) it ends by itself then; without, when enabled again. The last admin that is not disabled cannot be disabled.",
      body: disableBody,
      responses: {
        200: { description: "Disabled", schema: adminUserBody },
        ...JSON_BODY_ERRORS,
        ...ADMIN_WRITE,
        404: err("User not found"),
        409: err("Cannot remove the last admin"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, disableBody);
      if (body instanceof Response) return body;
      const now = clock();
      if (body.until !== undefined && body.until <= now) return invalidBody([{ path: "until", message: "until must be in the future" }]);
      const id = c.req.param("id");
      const result = await accounts.disable(id, body.until ?? DISABLED_FOREVER, body.reason, asAdmin(c, auth));
      if (result === "not_found") return refuse("userNotFound");
      if (result === "last_admin") return refuse("lastAdmin");
      logger.info({ event: "admin.user_disabled", requestId: c.get("requestId"), adminId: auth.user.id, userId: id });
      return json(adminView((await store.findUserById(id))!, now), 200, clearIfSelf(auth, id));
    },
  );

  r.post(
    {
      path: "/users/:id/enable", tag: "Admin", auth: "cookie",
      summary: "Enable a disabled user (admin)",
      responses: { 200: { description: "Enabled", schema: adminUserBody }, 400: err("This route takes no request body"), ...ADMIN_WRITE, 404: err("User not found"), ...COMMON },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const refused = await refuseBody(c.req.raw);
      if (refused) return refused;
      const id = c.req.param("id");
      if ((await accounts.enable(id, asAdmin(c, auth))) === "not_found") return refuse("userNotFound");
      logger.info({ event: "admin.user_enabled", requestId: c.get("requestId"), adminId: auth.user.id, userId: id });
      return json(adminView((await store.findUserById(id))!, clock()));
    },
  );

  r.patch(
    {
      path: "/users/:id", tag: "Admin", auth: "cookie",
      summary: "Change a user's role (admin)",
      description: "When the role changes, every session of that user ends. The last admin cannot be demoted.",
      body: setRoleBody,
      responses: {
        200: { description: "The user", schema: userBody },
        ...JSON_BODY_ERRORS,
        ...ADMIN_WRITE,
        404: err("User not found"),
        409: err("Cannot remove the last admin"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, setRoleBody);
      if (body instanceof Response) return body;
      const id = c.req.param("id");
      const result = await accounts.changeRole(id, body.role, asAdmin(c, auth)); // a change ends every session of that user
      if (result === "not_found") return refuse("userNotFound");
      if (result === "last_admin") return refuse("lastAdmin");
      if (!result.changed) return json({ user: toPublicUser(result.user) });
      logger.info({ event: "admin.role_changed", requestId: c.get("requestId"), adminId: auth.user.id, userId: id, role: body.role, revoked: result.revoked });
      return json({ user: toPublicUser(result.user) }, 200, clearIfSelf(auth, id));
    },
  );

  r.post(
    {
      path: "/users/:id/email", tag: "Admin", auth: "cookie",
      summary: "Change a user's email address (admin)",
      description: "The new address counts as verified (the admin vouches for it); every session and bearer token of that user ends.",
      body: setEmailBody,
      responses: {
        200: { description: "The user", schema: userBody },
        ...JSON_BODY_ERRORS,
        ...ADMIN_WRITE,
        404: err("User not found"),
        409: err("Email already registered"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const body = await parseJsonBody(c.req.raw, setEmailBody);
      if (body instanceof Response) return body;
      const id = c.req.param("id");
      const result = await accounts.setEmail(id, body.email, asAdmin(c, auth));
      if (result === "not_found") return refuse("userNotFound");
      if (result === "email_taken") return refuse("emailTaken");
      if (result.changed) logger.info({ event: "admin.email_changed", requestId: c.get("requestId"), adminId: auth.user.id, userId: id });
      return json({ user: toPublicUser(result.user) }, 200, result.changed ? clearIfSelf(auth, id) : undefined);
    },
  );

  // Every session and bearer credential of every user (ASVS V7.4.5), this
  // admin's own session too. Registered before /users/:id, which it would
  // otherwise match with id "sessions".
  r.delete(
    {
      path: "/users/sessions", tag: "Admin", auth: "cookie",
      summary: "End every session of every user (admin)",
      description: "Every cookie session and every bearer credential (refresh families, access tokens, reset links) of every user ends, the calling admin's own session too (its cookie is cleared). `revoked` counts cookie sessions.",
      responses: {
        200: { description: "Sessions ended", schema: revokedBody, headers: CLEAR_COOKIE },
        ...ADMIN_WRITE,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const ended = await accounts.endEverySession(asAdmin(c, auth));
      logger.info({ event: "admin.all_sessions_revoked", requestId: c.get("requestId"), adminId: auth.user.id, revoked: ended.sessions, families: ended.families });
      return json({ revoked: ended.sessions }, 200, { "set-cookie": clearSessionCookie(cookies) });
    },
  );

  r.delete(
    {
      path: "/users/:id", tag: "Admin", auth: "cookie",
      summary: "Delete a user (admin)",
      description: "Every session of the user goes with it. The last admin cannot be deleted.",
      responses: {
        200: { description: "Deleted", schema: messageBody },
        ...ADMIN_WRITE,
        404: err("User not found"),
        409: err("Cannot remove the last admin"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const id = c.req.param("id");
      const result = await accounts.remove(id, asAdmin(c, auth));
      if (result === "not_found") return refuse("userNotFound");
      if (result === "last_admin") return refuse("lastAdmin");
      logger.info({ event: "admin.user_deleted", requestId: c.get("requestId"), adminId: auth.user.id, userId: id });
      return json({ message: "User deleted" }, 200, clearIfSelf(auth, id));
    },
  );

  r.delete(
    {
      path: "/users/:id/mfa", tag: "Admin", auth: "cookie",
      summary: "Remove a user's second factors (admin)",
      description:
        "For a user who lost their authenticator app and recovery codes: the app and the codes go, every session and bearer token of the user ends, and the user is mailed a notice. Records `mfa.totp_disabled` with the admin as actor.",
      responses: {
        200: { description: "Removed", schema: messageBody },
        ...ADMIN_WRITE,
        404: err("User not found"),
        409: err("Two-factor authentication is not on"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const user = await store.findUserById(c.req.param("id"));
      if (!user) return refuse("userNotFound");
      const context = asAdmin(c, auth);
      if (!(await deps.mfa.disable(user.id, context))) return refuse("mfaNotEnabled");
      await accounts.endSessions(user.id, { context });
      deps.notices.secondFactorChanged(user, "removed_by_admin", context);
      logger.info({ event: "admin.mfa_removed", requestId: c.get("requestId"), adminId: auth.user.id, userId: user.id });
      return json({ message: "Second factors removed" }, 200, clearIfSelf(auth, user.id));
    },
  );

  r.delete(
    {
      path: "/users/:id/sessions", tag: "Admin", auth: "cookie",
      summary: "End every session of a user (admin)",
      responses: {
        200: { description: "Sessions ended", schema: revokedBody },
        ...ADMIN_WRITE,
        404: err("User not found"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await signedInAdmin(c);
      if (auth instanceof Response) return auth;
      const id = c.req.param("id");
      if (!(await store.findUserById(id))) return refuse("userNotFound");
      const revoked = await accounts.endSessions(id, { context: asAdmin(c, auth) });
      logger.info({ event: "admin.sessions_revoked", requestId: c.get("requestId"), adminId: auth.user.id, userId: id, revoked });
      return json({ revoked }, 200, clearIfSelf(auth, id));
    },
  );

  return r.routes;
}
