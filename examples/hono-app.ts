// An application that mounts Latchkey's routes under /auth and protects its
// own routes with the same sessions. Run: npx tsx examples/hono-app.ts
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createLatchkey, createSqliteStore, loadConfig, requireRole, type Latchkey } from "../src/index.js";

export function createExampleApp(latchkey: Latchkey): Hono {
  const app = new Hono();

  // POST /auth/signup, /auth/login, /auth/logout, GET /auth/me, ...
  app.route("/auth", latchkey.app);

  // Your own routes: authenticate() returns the signed-in user or the 401 to send.
  app.get("/dashboard", async (c) => {
    const auth = await latchkey.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    return c.json({ greeting: `Hello, ${auth.user.email}` });
  });

  app.get("/admin/report", async (c) => {
    const auth = await latchkey.authenticate(c.req.raw);
    if (auth instanceof Response) return auth;
    const forbidden = requireRole(auth, "admin");
    if (forbidden) return forbidden;
    return c.json({ report: "only for admins" });
  });

  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = loadConfig();
  const latchkey = createLatchkey({ config, store: createSqliteStore(config.database.kind === "sqlite" ? config.database.path : "./data/example.db") });
  serve({ fetch: createExampleApp(latchkey).fetch, port: config.port }, (info) => console.log(`example on http://localhost:${info.port}`));
}
