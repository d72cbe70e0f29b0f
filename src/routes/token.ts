// Bearer tokens for non-browser clients. These handlers never read the
// session cookie, and the cookie routes never read an Authorization header.
import { Hono } from "hono";
import { checkCredentials } from "../auth/credentials.js";
import type { AppEnv, Deps } from "../deps.js";
import { parseJsonBody } from "../http/body.js";
import { json, jsonError } from "../http/responses.js";
import { loginBody, refreshBody } from "../schemas.js";

export function tokenRoutes(deps: Deps) {
  const { store, bearer, clock, logger } = deps;
  const app = new Hono<AppEnv>();

  app.post("/token/login", async (c) => {
    const body = await parseJsonBody(c.req.raw, loginBody);
    if (body instanceof Response) return body;
    // LEAD: login rate limits (the same limiter and 429 + Retry-After as POST /login)
    const user = await checkCredentials(deps, body.email, body.password);
    if (!user) {
      logger.info({ event: "token.login_failure", requestId: c.get("requestId") });
      return jsonError(401, "Invalid email or password");
    }
    const tokens = await bearer.issue(user);
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
      return jsonError(401, "Invalid or expired refresh token");
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
