// Sign up, log in, log out (who am I: routes/me.ts). Each handler reads top to bottom:
// parse, check, act, answer.
import { clearSessionCookie, presentedSessionTokens, sessionCookie } from "../auth/cookies.js";
import { newEvent } from "../events.js";
import { eventContext } from "../http/event-context.js";
import { attemptLogin, passwordStillCurrent } from "../auth/credentials.js";
import { checkSignupAllowed } from "../auth/rate-limit.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { CLEAR_COOKIE, COMMON, err, JSON_BODY_ERRORS, messageBody, RATE_LIMITED, routeGroup, SET_COOKIE, userBody } from "../http/route.js";
import { refuse } from "../refusals.js";
import { loginBody, signupBody } from "../schemas.js";

export function authRoutes(deps: Deps) {
  const { store, sessions, accounts, cookies, clock, logger } = deps;
  const r = routeGroup<AppEnv>();

  r.post(
    {
      path: "/signup", tag: "Account", auth: "none",
      summary: "Create an account",
      description: "Creates the user; no session is started (log in next). Email: trimmed and lower-cased. Password: 8 to 1024 characters, taken exactly as typed.",
      body: signupBody,
      responses: { 201: { description: "Created", schema: userBody }, ...JSON_BODY_ERRORS, 409: err("Email already registered"), ...RATE_LIMITED, ...COMMON },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, signupBody);
      if (body instanceof Response) return body;
      const ip = deps.clientIp(c);
      const limited = await checkSignupAllowed(deps, ip);
      if (limited) return limited;
      const user = await accounts.create({ email: body.email, password: body.password, role: "user" }, eventContext(c, deps));
      if ("refused" in user) {
        return user.refused === "email_taken" ? refuse("emailTaken") : invalidBody([{ path: "password", message: user.reason }]);
      }
      logger.info({ event: "signup", requestId: c.get("requestId"), userId: user.id });
      return json({ user: toPublicUser(user) }, 201);
    },
  );

  r.post(
    {
      path: "/login", tag: "Session", auth: "none",
      summary: "Log in",
      description: "Starts a new session and ends the one the request arrived with. Unknown email and wrong password get the same answer.",
      body: loginBody,
      responses: {
        200: { description: "Signed in", schema: userBody, headers: SET_COOKIE },
        ...JSON_BODY_ERRORS,
        401: err("Invalid email or password (no Set-Cookie)"),
        ...RATE_LIMITED,
        ...COMMON,
      },
    },
    async (c) => {
      const body = await parseJsonBody(c.req.raw, loginBody);
      if (body instanceof Response) return body;
      const context = eventContext(c, deps);
      const attempt = { email: body.email, ip: context.ip ?? null };
      const user = await attemptLogin(deps, attempt, body.password, { context });
      if (user instanceof Response) {
        logger.info({ event: user.status === 429 ? "login.rate_limited" : "login.failure", requestId: c.get("requestId") });
        deps.metrics.login("cookie", user.status === 429 ? "rate_limited" : "failure");
        return user;
      }
      // Session fixation: whatever session the browser arrived with is ended, and a new one begins
      // (every one it presented: next to a planted cookie, the real one is among them).
      for (const previous of presentedSessionTokens(c.req.raw, cookies)) await sessions.revoke(previous);
      const { token, session } = await sessions.create(user.id, context);
      if (!(await passwordStillCurrent(deps, user))) {
        await sessions.revoke(token); // the password changed under this login
        deps.metrics.login("cookie", "failure");
        return refuse("invalidCredentials");
      }
      const now = clock();
      await store.recordLogin(user.id, now, newEvent("login.success", now, { ...context, sessionId: session.id }, user.id, { client: "cookie" }));
      logger.info({ event: "login.success", requestId: c.get("requestId"), userId: user.id });
      deps.metrics.login("cookie", "success");
      return json({ user: toPublicUser({ ...user, lastLoginAt: now }) }, 200, { "set-cookie": sessionCookie(token, cookies) });
    },
  );

  // No authentication on purpose: logging out must work with an expired,
  // revoked or missing session, and be idempotent.
  r.post(
    {
      path: "/logout", tag: "Session", auth: "none",
      summary: "Log out",
      description: "Ends the session named by the cookie, if any, and clears the cookie. Always 200, however often. Any other method is 405 with `Allow: POST`.",
      responses: { 200: { description: "Logged out", schema: messageBody, headers: CLEAR_COOKIE }, ...COMMON },
    },
    async (c) => {
      const event = newEvent("logout", clock(), eventContext(c, deps), null, { client: "cookie" });
      for (const token of presentedSessionTokens(c.req.raw, cookies)) await sessions.revoke(token, event);
      logger.info({ event: "logout", requestId: c.get("requestId") });
      return json({ message: "Logged out" }, 200, { "set-cookie": clearSessionCookie(cookies) });
    },
  );

  return r.routes;
}
