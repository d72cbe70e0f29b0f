// Impersonation: an admin signs in as a user to see what they see. It is a
// separate session marked with the admin's id, for at most IMPERSONATION_MAX
// and never renewed; the user sees it in their sessions and activity and is
// mailed; nothing sensitive can be done inside it (auth/reauth.ts), and every
// event inside it names the admin as actor (http/event-context.ts). The
// admin's own session waits in a second cookie and comes back on stop.
import { z } from "zod";
import { authenticateAdmin } from "../auth/authenticate.js";
import { clearSessionCookie, getSessionToken, impersonatorCookies, sessionCookie } from "../auth/cookies.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { newEvent } from "../events.js";
import { refuseBody } from "../http/body.js";
import { eventContext } from "../http/event-context.js";
import { json } from "../http/responses.js";
import { ADMIN_WRITE, COMMON, err, messageBody, routeGroup, SET_COOKIE, UNAUTHORIZED } from "../http/route.js";
import { userSchema } from "../schemas.js";
import { refuse } from "../refusals.js";
import { isDisabled } from "../store/store.js";

export function impersonationRoutes(deps: Deps) {
  const { store, sessions, cookies, clock, logger } = deps;
  const r = routeGroup<AppEnv>();

  r.post(
    {
      path: "/users/:id/impersonate", tag: "Admin", auth: "cookie",
      summary: "Sign in as a user (admin)",
      description:
        "This browser becomes the user, in a separate session marked with the admin's id, for at most IMPERSONATION_MAX (1 hour), never renewed; the admin's own session waits in a second cookie for POST /impersonation/stop. " +
        "Never another admin, nor a disabled account. The user is mailed and sees it in their sessions and activity; inside it no password, address, factor or deletion change is allowed.",
      responses: {
        200: { description: "Signed in as the user", schema: z.object({ user: userSchema, expiresAt: z.string() }), headers: SET_COOKIE },
        400: err("This route takes no request body"),
        ...ADMIN_WRITE,
        403: err("Forbidden, `Admins cannot be impersonated`, `Account disabled`, or a cross-site request"),
        404: err("User not found"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await authenticateAdmin(deps, c.req.raw);
      if (auth instanceof Response) return auth;
      const refused = await refuseBody(c.req.raw);
      if (refused) return refused;
      const user = await store.findUserById(c.req.param("id"));
      if (!user) return refuse("userNotFound");
      if (user.role === "admin") return refuse("cannotImpersonateAdmin");
      if (isDisabled(user, clock())) return refuse("accountDisabled");
      const context = eventContext(c, deps, { actorId: auth.user.id });
      const maxMs = deps.config.impersonationMaxMs;
      const { token, session } = await sessions.create(user.id, context, { aal: "aal1" }, { adminId: auth.user.id, maxMs });
      await store.events.append(newEvent("impersonation.started", clock(), { ...context, sessionId: session.id }, user.id));
      deps.notices.impersonated(user, context);
      logger.info({ event: "admin.impersonation_started", requestId: c.get("requestId"), adminId: auth.user.id, userId: user.id });
      const maxAge = Math.floor(maxMs / 1000);
      const own = getSessionToken(c.req.raw, cookies)!; // authenticateAdmin found it
      return json({ user: toPublicUser(user), expiresAt: new Date(session.expiresAt).toISOString() }, 200, [
        ["set-cookie", impersonatorCookies.set(own, cookies, maxAge)],
        ["set-cookie", sessionCookie(token, { ...cookies, maxAgeSeconds: maxAge })],
      ]);
    },
  );

  r.post(
    {
      path: "/impersonation/stop", tag: "Admin", auth: "cookie",
      summary: "Stop signing in as a user",
      description: "Ends the impersonation session and gives the admin their own session back (if it is still live; otherwise they are signed out).",
      responses: {
        200: { description: "Stopped", schema: messageBody.extend({ restored: z.boolean() }), headers: SET_COOKIE },
        400: err("This route takes no request body"),
        ...UNAUTHORIZED,
        409: err("This session is not an impersonation"),
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const refused = await refuseBody(c.req.raw);
      if (refused) return refused;
      const adminId = auth.session.impersonatorId;
      if (adminId === null) return refuse("notImpersonating");
      const context = eventContext(c, deps, auth);
      await sessions.revoke(getSessionToken(c.req.raw, cookies)!, newEvent("impersonation.ended", clock(), context, auth.user.id));
      const ownToken = impersonatorCookies.read(c.req.raw, cookies);
      const own = ownToken ? await sessions.validate(ownToken) : null;
      const restored = own !== null && own.user.id === adminId && own.session.impersonatorId === null;
      return json({ message: "Stopped signing in as the user", restored }, 200, [
        ["set-cookie", impersonatorCookies.clear(cookies)],
        ["set-cookie", restored ? sessionCookie(ownToken!, cookies) : clearSessionCookie(cookies)],
      ]);
    },
  );

  return r.routes;
}
