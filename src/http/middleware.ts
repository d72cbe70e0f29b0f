// The cross-cutting middleware, in the order app.ts applies them.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { routePath } from "hono/route";
import type { AppEnv } from "../deps.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { createAccessLog } from "./access-log.js";
import { fixedHeaders } from "./headers.js";
import { checkCrossSite, type CrossSiteOptions } from "../auth/csrf.js";

/** A request id for every request (also sent as X-Request-Id), and its access-log line when it ends. */
export function requestContext(
  logger: Logger,
  options: { accessLog: boolean; metrics: Metrics },
): MiddlewareHandler<AppEnv> {
  const log = createAccessLog(logger, options.accessLog);
  const { metrics } = options;
  return async (c, next) => {
    const requestId = crypto.randomUUID();
    const started = log || metrics.enabled ? performance.now() : 0;
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("x-request-id", requestId);
    log?.({ requestId, method: c.req.method, path: c.req.path, status: c.res.status, started });
    if (metrics.enabled) metrics.request(routeLabel(routePath(c, -1)), c.req.method, c.res.status, started);
  };
}

/**
 * The declared route the request matched (its pattern, also when a guard
 * answered before its handler), or "unmatched" when only middleware matched:
 * never the raw path, so the series stay few.
 */
const routeLabel = (routePath: string) => (routePath.includes("*") ? "unmatched" : routePath);

/** Sets the fixed headers on every response that does not set them itself. */
export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler {
  const fixed = fixedHeaders(options);
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    for (const [name, value] of fixed) if (!headers.has(name)) headers.set(name, value);
  };
}

/**
 * The request body size limit (413 before the body is read). A declared
 * Content-Length is checked here from the header alone; only a chunked body
 * goes through Hono's bodyLimit, which counts the bytes as they stream in.
 * (Hono's middleware asks every request for its body stream first, which
 * makes @hono/node-server build a full WHATWG Request, with an AbortSignal
 * and a ReadableStream, that the JSON reader then does not need.)
 */
export function bodySizeLimit(maxSize: number, onError: () => Response): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize, onError });
  return (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next();
    const declared = c.req.header("content-length");
    if (declared === undefined || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    return Number(declared) > maxSize ? Promise.resolve(onError()) : next();
  };
}

/**
 * Refuses cross-site non-safe requests before any route registered after it
 * runs. The bearer routes are registered before it (app.ts): an exemption by
 * route, not by a pattern over the path.
 */
export function crossSiteGuard(options: CrossSiteOptions): MiddlewareHandler {
  // Not async: a GET passes straight to next() without one more promise layer on the hot path.
  return (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next();
    const refused = checkCrossSite(c.req.raw, options);
    return refused ? Promise.resolve(refused) : next();
  };
}
