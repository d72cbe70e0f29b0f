// Bearer tokens for non-browser clients. These handlers never read the
// session cookie, and the cookie routes never read an Authorization header.
import { Hono } from "hono";
import { attemptLogin, passwordStillCurrent } from "../auth/credentials.js";
import type { AppEnv, Deps } from "../deps.js";
import { parseJsonBody } from "../http/body.js";
import { json } from "../http/responses.js";
import { refuse } from "../refusals.js";
import { loginBody, refreshBody } from "../schemas.js";

export function tokenRoutes(deps: Deps) {
  const { store, bearer, clock, logger } = deps;
  const app = new Hono<AppEnv>();

  app.post("/token/login", async (c) => {
    const body = await parseJsonBody(c.req.raw, loginBody);
    if (body instanceof Response) return body;
    const user = await attemptLogin(deps, { email: body.email, ip: deps.clientIp(c) }, body.password);
    if (user instanceof Response) {
      logger.info({ event: user.status === 429 ? "token.login_rate_limited" : "token.login_failure", requestId: c.get("requestId") });
      return user;
    }
    const tokens = await bearer.issue(user);
    if (!(await passwordStillCurrent(deps, user))) {
      await bearer.revoke(tokens.refreshToken); // the password changed under this login: its tokens must not outlive it
      return refuse("invalidCredentials");
    }
    await store.recordLogin(user.id, clock());
    logger.info({ event: "token.login_success", requestId: c.get("requestId"), userId: user.id });
    return json(tokens);
  });

  app.post("/token/refresh", async (c) => {
    const body = await parseJsonBody(c.req.raw, refreshBody);
    if (body instanceof Response) return body;
    const result = await bearer.refresh(body.refreshToken);
    if ("status" in result) {
      logger.info({ event: "token.refresh_refused", requestId: c.get("requestId"), reason: result.status });
      return refuse("invalidRefreshToken");
    }
    return json(result);
  });

  app.get("/token/me", async (c) => {
    const auth = await bearer.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    return json({ user: auth.user });
  });

  // Idempotent like /logout: an unknown or already revoked token is not an error.
  app.post("/token/logout", async (c) => {
    const body = await parseJsonBody(c.req.raw, refreshBody);
    if (body instanceof Response) return body;
    await bearer.revoke(body.refreshToken);
    logger.info({ event: "token.logout", requestId: c.get("requestId") });
    return json({ message: "Logged out" });
  });

  return app;
}
