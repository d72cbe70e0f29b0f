// The Hono app: middleware order and route groups, nothing else.
import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv, Deps } from "./deps.js";
import { toResponse } from "./http/answer.js";
import { errorAnswer } from "./http/errors.js";
import { jsonError } from "./http/responses.js";
import { bodySizeLimit, crossSiteGuard, requestContext, securityHeaders } from "./http/middleware.js";
import type { NodeLane } from "./http/node-listener.js";
import { bodyTooLargeMessage, refuse } from "./refusals.js";
import { accountRoutes } from "./routes/account.js";
import { adminRoutes } from "./routes/admin.js";
import { authRoutes } from "./routes/auth.js";
import { docsRoutes } from "./routes/docs.js";
import { healthRoutes } from "./routes/health.js";
import { meAnswer, meRoutes } from "./routes/me.js";
import { sessionRoutes } from "./routes/sessions.js";
import { pageRoutes } from "./routes/pages.js";
import { passwordResetRoutes } from "./routes/password-reset.js";
import { tokenRoutes } from "./routes/token.js";

export function createApp(deps: Deps): Hono<AppEnv> {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();

  app.use(requestContext(logger, { accessLog: config.accessLog }));
  app.use(securityHeaders({ hsts: config.secureCookies }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (_c, methods) =>
        refuse("methodNotAllowed", undefined, { allow: methods.join(", ") }),
    }),
  );
  app.use(bodySizeLimit(config.bodyLimitBytes, () => jsonError(413, bodyTooLargeMessage(config.bodyLimitBytes))));
  // The bearer routes come before the cross-site guard, so exactly they (by
  // method and route, wherever the app is mounted) skip it: they never read
  // cookies, so a cross-site request to them carries no ambient authority.
  app.route("/", tokenRoutes(deps));
  app.use(crossSiteGuard(config));

  app.route("/", healthRoutes(deps));
  app.route("/", authRoutes(deps));
  app.route("/", meRoutes(deps)); // also answered on Node's listener: nodeLanes below
  app.route("/", sessionRoutes(deps));
  app.route("/", accountRoutes(deps));
  app.route("/", adminRoutes(deps));
  app.route("/", passwordResetRoutes(deps));
  app.route("/", pageRoutes(deps, app)); // HTML pages (PAGES_ENABLED); `app` lets them see which routes exist
  app.route("/", docsRoutes(deps, app)); // /openapi.json and /docs

  app.notFound(() => refuse("notFound"));
  app.onError((err, c) => toResponse(errorAnswer(err, c.get("requestId"), logger)));

  return app;
}

/**
 * Routes that Node's request listener answers itself, before Hono, when the
 * app is served at the root (http/node-listener.ts). Each writes the same
 * Answer as its Hono route; a throw goes through the same errorAnswer.
 */
export function nodeLanes(deps: Pick<Deps, "checkSession" | "cookies">): Record<string, NodeLane> {
  return {
    "GET /me": async (req) => meAnswer(await deps.checkSession(req.headers.cookie), deps.cookies),
  };
}
