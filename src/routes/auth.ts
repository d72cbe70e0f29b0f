// Sign up, log in, log out (who am I: routes/me.ts). Each handler reads top to bottom:
// parse, check, act, answer.
import { Hono } from "hono";
import { clearSessionCookie, presentedSessionTokens, sessionCookie } from "../auth/cookies.js";
import { attemptLogin, passwordStillCurrent } from "../auth/credentials.js";
import { checkSignupAllowed } from "../auth/rate-limit.js";
import { toPublicUser } from "../auth/users.js";
import type { AppEnv, Deps } from "../deps.js";
import { invalidBody, parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { refuse } from "../refusals.js";
import { loginBody, signupBody } from "../schemas.js";

export function authRoutes(deps: Deps) {
  const { store, sessions, accounts, cookies, clock, logger } = deps;
  const app = new Hono<AppEnv>();

  app.post("/signup", async (c) => {
    const body = await parseJsonBody(c.req.raw, signupBody);
    if (body instanceof Response) return body;
    const ip = deps.clientIp(c);
    const limited = await checkSignupAllowed(deps, ip);
    if (limited) return limited;
    const user = await accounts.create({ email: body.email, password: body.password, role: "user" });
    if ("refused" in user) {
      return user.refused === "email_taken" ? refuse("emailTaken") : invalidBody([{ path: "password", message: user.reason }]);
    }
    logger.info({ event: "signup", requestId: c.get("requestId"), userId: user.id });
    return json({ user: toPublicUser(user) }, 201);
  });

  app.post("/login", async (c) => {
    const body = await parseJsonBody(c.req.raw, loginBody);
    if (body instanceof Response) return body;
    const attempt = { email: body.email, ip: deps.clientIp(c) };
    const user = await attemptLogin(deps, attempt, body.password);
    if (user instanceof Response) {
      logger.info({ event: user.status === 429 ? "login.rate_limited" : "login.failure", requestId: c.get("requestId") });
      return user;
    }
    // Session fixation: whatever session the browser arrived with is ended, and a new one begins
    // (every one it presented: next to a planted cookie, the real one is among them).
    for (const previous of presentedSessionTokens(c.req.raw, cookies)) await sessions.revoke(previous);
    const { token } = await sessions.create(user.id, {
      userAgent: c.req.header("user-agent"),
      ip: attempt.ip,
    });
    if (!(await passwordStillCurrent(deps, user))) {
      await sessions.revoke(token); // the password changed under this login
      return refuse("invalidCredentials");
    }
    const now = clock();
    await store.recordLogin(user.id, now);
    logger.info({ event: "login.success", requestId: c.get("requestId"), userId: user.id });
    return json({ user: toPublicUser({ ...user, lastLoginAt: now }) }, 200, { "set-cookie": sessionCookie(token, cookies) });
  });

  // No authentication on purpose: logging out must work with an expired,
  // revoked or missing session, and be idempotent.
  app.post("/logout", async (c) => {
    for (const token of presentedSessionTokens(c.req.raw, cookies)) await sessions.revoke(token);
    logger.info({ event: "logout", requestId: c.get("requestId") });
    return json({ message: "Logged out" }, 200, { "set-cookie": clearSessionCookie(cookies) });
  });

  return app;
}
