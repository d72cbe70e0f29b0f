import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import { json, jsonError } from "../http/responses.js";

export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  /** The process is up. */
  app.get("/healthz", () => json({ status: "ok" }));
  /** The database answers. */
  app.get("/readyz", async () => {
    try {
      await deps.store.ping();
      return json({ status: "ready" });
    } catch {
      return jsonError(503, "Service unavailable");
    }
  });
  return app;
}
