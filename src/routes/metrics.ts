// GET /metrics: Prometheus's text format, for whoever holds METRICS_TOKEN.
// Without the token configured the route is not declared at all (404).
import { createHash, timingSafeEqual } from "node:crypto";
import type { AppEnv, Deps } from "../deps.js";
import { COMMON, err, routeGroup } from "../http/route.js";
import { refuse } from "../refusals.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function metricsRoutes(deps: Deps) {
  const r = routeGroup<AppEnv>();
  const token = deps.config.metricsToken;
  if (!token) return r.routes;
  const expected = digest(token);
  // Compared as SHA-256 digests: constant time, whatever the presented length.
  const authorized = (header: string | undefined) =>
    header !== undefined && header.startsWith("Bearer ") && timingSafeEqual(digest(header.slice(7)), expected);

  r.get(
    {
      path: "/metrics", tag: "Operations", auth: "none",
      summary: "Metrics in Prometheus text format (METRICS_TOKEN)",
      description: "Served only when METRICS_TOKEN is set, to `Authorization: Bearer <METRICS_TOKEN>`. Requests by route pattern and status, latency histograms, logins by outcome, rate-limit refusals, 5xx by reason, the Argon2 queue, session-cache lookups, store latency and errors, the webhook backlog, and the process's own figures.",
      responses: {
        200: { description: "The exposition (text/plain; version=0.0.4)" },
        401: err("Missing or wrong METRICS_TOKEN", { "WWW-Authenticate": "Bearer" }),
        ...COMMON,
      },
    },
    async (c) => {
      if (!authorized(c.req.header("authorization"))) return refuse("unauthorized", undefined, { "www-authenticate": "Bearer" });
      const { contentType, body } = await deps.metrics.render();
      return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
    },
  );
  return r.routes;
}
