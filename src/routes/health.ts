import { Hono } from "hono";
import type { AppEnv, Deps } from "../deps.js";
import { json } from "../http/responses.js";
import { refuse } from "../refusals.js";

export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/healthz", () => json({ status: "ok" }));
  // Ready when the database answers.
  app.get("/readyz", async () => {
    try {
      await deps.store.ping();
      return json({ status: "ready" });
    } catch {
      return refuse("unavailable");
    }
  });
  return app;
}
