// The Hono app: middleware order and route groups, nothing else.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import { PasswordHasherBusyError } from "./auth/passwords.js";
import type { AppEnv, Deps } from "./deps.js";
import { bodySizeLimit, crossSiteGuard, requestContext, securityHeaders } from "./http/middleware.js";
import { brokenBody, isBrokenRequestBody } from "./http/body.js";
import { jsonError } from "./http/responses.js";
import { accountRoutes } from "./routes/account.js";
import { adminRoutes } from "./routes/admin.js";
import { authRoutes } from "./routes/auth.js";
import { docsRoutes } from "./routes/docs.js";
import { healthRoutes } from "./routes/health.js";
import { sessionRoutes } from "./routes/sessions.js";
import { pageRoutes } from "./routes/pages.js";
import { passwordResetRoutes } from "./routes/password-reset.js";
import { tokenRoutes } from "./routes/token.js";
import { StoreUnavailableError } from "./store/store.js";

export function createApp(deps: Deps): Hono<AppEnv> {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();

  app.use(requestContext(logger, { accessLog: config.accessLog }));
  app.use(securityHeaders({ hsts: config.secureCookies }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (_c, methods) =>
        jsonError(405, "Method not allowed", undefined, { allow: methods.join(", ") }),
    }),
  );
  app.use(bodySizeLimit(config.bodyLimitBytes, () => jsonError(413, `Request body must be at most ${config.bodyLimitBytes} bytes`)));
  // The bearer routes come before the cross-site guard, so exactly they (by
  // method and route, wherever the app is mounted) skip it: they never read
  // cookies, so a cross-site request to them carries no ambient authority.
  app.route("/", tokenRoutes(deps));
  app.use(crossSiteGuard(config));

  app.route("/", healthRoutes(deps));
  app.route("/", authRoutes(deps));
  app.route("/", sessionRoutes(deps));
  app.route("/", accountRoutes(deps));
  app.route("/", adminRoutes(deps));
  app.route("/", passwordResetRoutes(deps));
  app.route("/", pageRoutes(deps, app)); // HTML pages (PAGES_ENABLED); `app` lets them see which routes exist
  app.route("/", docsRoutes(deps, app)); // /openapi.json and /docs

  app.notFound(() => jsonError(404, "Not found"));
  app.onError((err, c) => {
    if (err instanceof PasswordHasherBusyError) {
      return jsonError(503, "Server busy, try again", undefined, { "retry-after": "1" });
    }
    if (err instanceof StoreUnavailableError) {
      return jsonError(503, "Service unavailable", undefined, { "retry-after": "1" });
    }
    if (err instanceof HTTPException && err.status < 500) return jsonError(err.status, err.message || "Bad request");
    const requestId = c.get("requestId");
    if (isBrokenRequestBody(err)) {
      logger.info({ event: "http.broken_body", requestId }); // the client's fault: not an "unhandled error"
      return brokenBody();
    }
    logger.error({ requestId, err: { name: err.name, message: err.message, stack: err.stack } }, "unhandled error");
    return jsonError(500, "Internal server error", { requestId });
  });

  return app;
}
