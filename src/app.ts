// The Hono app: middleware order and route groups, nothing else.
import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { AppEnv, Deps } from "./deps.js";
import { toResponse } from "./http/answer.js";
import { errorAnswer } from "./http/errors.js";
import { jsonError } from "./http/responses.js";
import { bodySizeLimit, crossSiteGuard, requestContext, securityHeaders } from "./http/middleware.js";
import type { NodeLane } from "./http/node-listener.js";
import { registerRoutes, type Declaration } from "./http/route.js";
import { bodyTooLargeMessage, refuse } from "./refusals.js";
import { accountRoutes } from "./routes/account.js";
import { mfaRoutes } from "./routes/mfa.js";
import { adminRoutes } from "./routes/admin.js";
import { impersonationRoutes } from "./routes/impersonation.js";
import { eventRoutes } from "./routes/events.js";
import { emailLinkRoutes } from "./routes/email-links.js";
import { authRoutes } from "./routes/auth.js";
import { docsRoutes } from "./routes/docs.js";
import { healthRoutes } from "./routes/health.js";
import { meAnswer, meRoutes } from "./routes/me.js";
import { metricsRoutes } from "./routes/metrics.js";
import { sessionRoutes } from "./routes/sessions.js";
import { pageRoutes } from "./routes/pages.js";
import { passwordResetRoutes } from "./routes/password-reset.js";
import { tokenRoutes } from "./routes/token.js";
import { webhookRoutes } from "./routes/webhooks.js";

const declared = new WeakMap<Hono<AppEnv>, readonly Declaration[]>();

/** The routes createApp() declared for `app` (tests compare them with `app.routes`: a route added with a bare app.get is missing here). */
export function declaredRoutes(app: Hono<AppEnv>): readonly Declaration[] {
  return declared.get(app) ?? [];
}

export function createApp(deps: Deps): Hono<AppEnv> {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();

  app.use(requestContext(logger, { accessLog: config.accessLog, metrics: deps.metrics }));
  app.use(securityHeaders({ hsts: config.secureCookies }));
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (_c, methods) =>
        refuse("methodNotAllowed", undefined, { allow: methods.join(", ") }),
    }),
  );
  app.use(bodySizeLimit(config.bodyLimitBytes, () => jsonError(413, bodyTooLargeMessage(config.bodyLimitBytes))));
  // Every route, declared next to its handler, in the order the API
  // reference lists them. registerRoutes puts the ones exempt from the
  // cross-site check (the bearer routes: they never read cookies) before the
  // guard and the rest after it, each set in this order.
  const served = [
    ...authRoutes(deps),
    ...meRoutes(deps), // also answered on Node's listener: nodeLanes below
    ...sessionRoutes(deps),
    ...accountRoutes(deps),
    ...mfaRoutes(deps), // /mfa/*, /reauth
    ...adminRoutes(deps),
    ...impersonationRoutes(deps), // POST /users/:id/impersonate, /impersonation/stop
    ...webhookRoutes(deps), // /admin/webhooks/*: the failed list and redelivery
    ...eventRoutes(deps),
    ...tokenRoutes(deps),
    ...passwordResetRoutes(deps),
    ...emailLinkRoutes(deps),
    ...healthRoutes(deps),
    ...metricsRoutes(deps), // GET /metrics, only with METRICS_TOKEN
    ...pageRoutes(deps), // HTML pages (PAGES_ENABLED)
  ];
  const routes = [...served, ...docsRoutes(deps, served)]; // /openapi.json and /docs: the document of all of them
  registerRoutes(app, routes, crossSiteGuard(config));
  declared.set(app, routes.map((r) => r.declaration));

  app.notFound(() => refuse("notFound"));
  app.onError((err, c) => toResponse(errorAnswer(err, c.get("requestId"), logger, deps.metrics)));

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
