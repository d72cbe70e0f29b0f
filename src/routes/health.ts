import type { AppEnv, Deps } from "../deps.js";
import { json } from "../http/responses.js";
import { err, routeGroup, statusBody } from "../http/route.js";
import { refuse } from "../refusals.js";

export function healthRoutes(deps: Deps) {
  const r = routeGroup<AppEnv>();
  r.get(
    { path: "/healthz", tag: "Operations", auth: "none", summary: "Liveness: the process is up", responses: { 200: { description: "Up", schema: statusBody } } },
    () => json({ status: "ok" }),
  );
  // Ready when the database answers.
  r.get(
    {
      path: "/readyz", tag: "Operations", auth: "none",
      summary: "Readiness: the database answers",
      responses: { 200: { description: "Ready", schema: statusBody }, 503: err("The database does not answer") },
    },
    async () => {
      try {
        await deps.store.ping();
        return json({ status: "ready" });
      } catch {
        return refuse("unavailable");
      }
    },
  );
  return r.routes;
}
