// GET /me: the route every signed-in page load and API client calls. Its
// answer is decided here once; Hono's route below and the Node lane
// (app.ts nodeLanes, http/node-listener.ts) only write it out.
import type { SessionCheck } from "../auth/authenticate.js";
import { clearSessionCookie, type CookieOptions } from "../auth/cookies.js";
import type { AppEnv, Deps } from "../deps.js";
import { answer, toResponse, type Answer } from "../http/answer.js";
import { COMMON, routeGroup, UNAUTHORIZED as UNAUTHORIZED_DOC, userBody } from "../http/route.js";
import { REFUSALS } from "../refusals.js";
import type { User } from "../schemas.js";

const UNAUTHORIZED = answer(401, { error: REFUSALS.unauthorized.message });

/** Answers for frozen (session-cached) users, serialised once per cached row. */
const answers = new WeakMap<User, Answer>();
function signedIn(user: User): Answer {
  if (!Object.isFrozen(user)) return answer(200, { user });
  let cached = answers.get(user);
  if (!cached) answers.set(user, (cached = answer(200, { user })));
  return cached;
}

/** 200 with the user; 401 otherwise, clearing the cookie when it named a dead session. */
export function meAnswer(check: SessionCheck, cookies: CookieOptions): Answer {
  if (typeof check === "object") return signedIn(check.user);
  if (check === "none") return UNAUTHORIZED;
  return { ...UNAUTHORIZED, headers: [["set-cookie", clearSessionCookie(cookies)]] };
}

export function meRoutes(deps: Deps) {
  const r = routeGroup<AppEnv>();
  r.get(
    {
      path: "/me", tag: "Session", auth: "cookie",
      summary: "The signed-in user",
      responses: { 200: { description: "The user", schema: userBody }, ...UNAUTHORIZED_DOC, ...COMMON },
    },
    async (c) => toResponse(meAnswer(await deps.checkSession(c.req.header("cookie")), deps.cookies)),
  );
  return r.routes;
}
