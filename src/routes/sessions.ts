// Sessions a signed-in user can see and end (ASVS V7.4/V7.5): list them,
// end one, end every other one, or end all of them including this one.
// Sessions are named by their public id, never by their token or its hash.
import { clearSessionCookie } from "../auth/cookies.js";
import { iso } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { newEvent } from "../events.js";
import { eventContext } from "../http/event-context.js";
import { refuseBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { CLEAR_COOKIE, COMMON, err, messageBody, revokedBody, routeGroup, UNAUTHORIZED } from "../http/route.js";
import { z } from "zod";
import { refuse } from "../refusals.js";
import { sessionSchema, type PublicSession } from "../schemas.js";
import type { SessionRow } from "../store/store.js";

/** The session as its owner sees it; `expiresAt` is whichever expiry comes first if it is not used again. */
function toPublicSession(row: SessionRow, currentId: string, idleTimeoutMs: number): PublicSession {
  return {
    id: row.id,
    current: row.id === currentId,
    createdAt: iso(row.createdAt),
    lastSeenAt: iso(row.lastSeenAt),
    expiresAt: iso(Math.min(row.expiresAt, row.lastSeenAt + idleTimeoutMs)),
    authenticatedAt: iso(row.authenticatedAt),
    aal: row.aal,
    impersonatorId: row.impersonatorId,
    userAgent: row.userAgent,
    ip: row.ip,
  };
}

export function sessionRoutes(deps: Deps) {
  const { sessions, accounts, cookies, logger } = deps;
  const r = routeGroup<AppEnv>();

  r.get(
    {
      path: "/sessions", tag: "Sessions", auth: "cookie",
      summary: "List my sessions",
      responses: { 200: { description: "Live sessions of the signed-in user", schema: z.object({ sessions: z.array(sessionSchema) }) }, ...UNAUTHORIZED, ...COMMON },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const live = await sessions.listLive(auth.user.id);
      return json({ sessions: live.map((s) => toPublicSession(s, auth.session.id, sessions.settings.idleTimeoutMs)) });
    },
  );

  r.delete(
    {
      path: "/sessions/:id", tag: "Sessions", auth: "cookie",
      summary: "Revoke one of my sessions",
      description: "Ending the current session also clears the cookie. Another user's session id answers 404, like an unknown one.",
      responses: { 200: { description: "Revoked", schema: messageBody }, ...UNAUTHORIZED, 404: err("No such session of this user"), ...COMMON },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const id = c.req.param("id");
      // Another user's session id answers exactly like an unknown one: no probing.
      const event = newEvent("session.revoked", deps.clock(), { ...eventContext(c, deps, auth), sessionId: id }, auth.user.id);
      if (!(await sessions.revokeById(auth.user.id, id, event))) return refuse("sessionNotFound");
      logger.info({ event: "session.revoked", requestId: c.get("requestId"), userId: auth.user.id });
      const endedCurrent = id === auth.session.id;
      return json(
        { message: "Session revoked" },
        200,
        endedCurrent ? { "set-cookie": clearSessionCookie(cookies) } : undefined,
      );
    },
  );

  r.post(
    {
      path: "/sessions/revoke-others", tag: "Sessions", auth: "cookie",
      summary: "Revoke every session but this one",
      description: "Takes no request body (a non-empty one is refused with 400).",
      responses: {
        200: { description: "Other sessions revoked", schema: revokedBody },
        400: err("A request body was sent: `This route takes no request body`"),
        ...UNAUTHORIZED,
        ...COMMON,
      },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const refused = await refuseBody(c.req.raw);
      if (refused) return refused;
      // Bearer clients (refresh families, access tokens) are other sessions too.
      const revoked = await accounts.endSessions(auth.user.id, { keep: auth.session, context: eventContext(c, deps, auth) });
      logger.info({ event: "sessions.revoked_others", requestId: c.get("requestId"), userId: auth.user.id, revoked });
      return json({ revoked });
    },
  );

  r.post(
    {
      path: "/logout-all", tag: "Sessions", auth: "cookie",
      summary: "Log out everywhere",
      responses: { 200: { description: "All sessions ended, this one too", schema: messageBody.extend({ revoked: z.number().int() }), headers: CLEAR_COOKIE }, ...UNAUTHORIZED, ...COMMON },
    },
    async (c) => {
      const auth = await deps.authenticate(c.req.raw);
      if (auth instanceof Response) return auth;
      const revoked = await accounts.endSessions(auth.user.id, { context: eventContext(c, deps, auth) });
      logger.info({ event: "logout_all", requestId: c.get("requestId"), userId: auth.user.id, revoked });
      return json({ message: "Logged out everywhere", revoked }, 200, { "set-cookie": clearSessionCookie(cookies) });
    },
  );

  return r.routes;
}
