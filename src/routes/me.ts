// GET /me: the route every signed-in page load and API client calls. Its
// answer is decided here once; Hono's route below and the Node lane
// (app.ts nodeLanes, http/node-listener.ts) only write it out.
import type { SessionCheck } from "../auth/authenticate.js";
import { clearSessionCookie, type CookieOptions } from "../auth/cookies.js";
import type { AppEnv, Deps } from "../deps.js";
import { answer, toResponse, type Answer } from "../http/answer.js";
import { iso } from "../auth/users.js";
import { COMMON, routeGroup, UNAUTHORIZED as UNAUTHORIZED_DOC } from "../http/route.js";
import { REFUSALS } from "../refusals.js";
import { currentSessionSchema, userSchema, type CurrentSession, type User } from "../schemas.js";
import type { SessionRow } from "../store/store.js";
import { z } from "zod";

const UNAUTHORIZED = answer(401, { error: REFUSALS.unauthorized.message });
const meBody = z.object({ user: userSchema, session: currentSessionSchema });

const body = (user: User, session: SessionRow): { user: User; session: CurrentSession } => ({
  user,
  session: { id: session.id, authenticatedAt: iso(session.authenticatedAt), aal: session.aal, impersonatorId: session.impersonatorId },
});

/**
 * Answers for frozen (session-cached) rows, serialised once per cached
 * session and user. What a session proved never changes under its id (a
 * re-authentication makes a new session), so only a changed user row, or a
 * touch (a new frozen session object), serialises again.
 */
const answers = new WeakMap<SessionRow, { user: User; answer: Answer }>();
function signedIn(user: User, session: SessionRow): Answer {
  if (!Object.isFrozen(user) || !Object.isFrozen(session)) return answer(200, body(user, session));
  const cached = answers.get(session);
  if (cached?.user === user) return cached.answer;
  const fresh = answer(200, body(user, session));
  answers.set(session, { user, answer: fresh });
  return fresh;
}

/** 200 with the user and the session's proof; 401 otherwise, clearing the cookie when it named a dead session. */
export function meAnswer(check: SessionCheck, cookies: CookieOptions): Answer {
  if (typeof check === "object") return signedIn(check.user, check.session);
  if (check === "none") return UNAUTHORIZED;
  return { ...UNAUTHORIZED, headers: [["set-cookie", clearSessionCookie(cookies)]] };
}

export function meRoutes(deps: Deps) {
  const r = routeGroup<AppEnv>();
  r.get(
    {
      path: "/me", tag: "Session", auth: "cookie",
      summary: "The signed-in user",
      description: "The user, and what the session proved and when (`aal`, `authenticatedAt`; see POST /reauth).",
      responses: { 200: { description: "The user and the session", schema: meBody }, ...UNAUTHORIZED_DOC, ...COMMON },
    },
    async (c) => toResponse(meAnswer(await deps.checkSession(c.req.header("cookie")), deps.cookies)),
  );
  return r.routes;
}
