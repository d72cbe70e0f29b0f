// Sessions a signed-in user can see and end (ASVS V7.4/V7.5): list them,
// end one, end every other one, or end all of them including this one.
// Sessions are named by their public id, never by their token or its hash.
import { Hono } from "hono";
import { clearSessionCookie } from "../auth/cookies.js";
import { iso } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { json } from "../http/responses.js";
import { refuse } from "../refusals.js";
import type { PublicSession } from "../schemas.js";
import type { SessionRow } from "../store/store.js";

/** The session as its owner sees it; `expiresAt` is whichever expiry comes first if it is not used again. */
function toPublicSession(row: SessionRow, currentId: string, idleTimeoutMs: number): PublicSession {
  return {
    id: row.id,
    current: row.id === currentId,
    createdAt: iso(row.createdAt),
    lastSeenAt: iso(row.lastSeenAt),
    expiresAt: iso(Math.min(row.expiresAt, row.lastSeenAt + idleTimeoutMs)),
    userAgent: row.userAgent,
    ip: row.ip,
  };
}

/**
 * 400 when a request to a route that takes no body carries one, as other
 * routes refuse fields they do not take (a client sending options it thinks
 * matter should learn they do not). An empty body (the no-JS form's) is fine.
 */
async function refuseBody(request: Request): Promise<Response | null> {
  if (request.body === null) return null;
  const bytes = await request.arrayBuffer();
  return bytes.byteLength === 0 ? null : refuse("unexpectedBody");
}

export function sessionRoutes(deps: Deps) {
  const { sessions, accounts, cookies, logger } = deps;
  const app = new Hono<AppEnv>();

  app.get("/sessions", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const live = await sessions.listLive(auth.user.id);
    return json({ sessions: live.map((s) => toPublicSession(s, auth.session.id, sessions.settings.idleTimeoutMs)) });
  });

  app.delete("/sessions/:id", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const id = c.req.param("id");
    // Another user's session id answers exactly like an unknown one: no probing.
    if (!(await sessions.revokeById(auth.user.id, id))) return refuse("sessionNotFound");
    logger.info({ event: "session.revoked", requestId: c.get("requestId"), userId: auth.user.id });
    const endedCurrent = id === auth.session.id;
    return json(
      { message: "Session revoked" },
      200,
      endedCurrent ? { "set-cookie": clearSessionCookie(cookies) } : undefined,
    );
  });

  app.post("/sessions/revoke-others", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const refused = await refuseBody(c.req.raw);
    if (refused) return refused;
    // Bearer clients (refresh families, access tokens) are other sessions too.
    const revoked = await accounts.endSessions(auth.user.id, { keep: auth.session });
    logger.info({ event: "sessions.revoked_others", requestId: c.get("requestId"), userId: auth.user.id, revoked });
    return json({ revoked });
  });

  app.post("/logout-all", async (c) => {
    const auth = await deps.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const revoked = await accounts.endSessions(auth.user.id);
    logger.info({ event: "logout_all", requestId: c.get("requestId"), userId: auth.user.id, revoked });
    return json({ message: "Logged out everywhere", revoked }, 200, { "set-cookie": clearSessionCookie(cookies) });
  });

  return app;
}
