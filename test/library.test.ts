// Latchkey as a library: mounted under a path prefix in someone else's Hono app,
// and its Fetch handler used directly (as Deno.serve / Bun.serve would).
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExampleApp } from "../examples/hono-app.js";
import { createLatchkey, createSqliteStore, type Latchkey } from "../src/index.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { serveFetch, tempDir, testConfig } from "./helpers/server.js";

const dir = tempDir();
let latchkey: Latchkey;
let server: Awaited<ReturnType<typeof serveFetch>>;
let url: string;

beforeAll(async () => {
  latchkey = createLatchkey({ config: testConfig(), store: createSqliteStore(`${dir.path}/lib.db`), backgroundTasks: false });
  const app = createExampleApp(latchkey);
  server = await serveFetch(app.fetch);
  url = server.url;
});
afterAll(async () => {
  await server.close();
  await latchkey.store.close();
  dir.remove();
});

describe("mounted under /auth in a Hono app", () => {
  it("serves the auth routes under the prefix and protects the app's own routes", async () => {
    const c = client(url);
    expect((await c.get("/dashboard")).status).toBe(401);
    const email = uniqueEmail();
    expect((await c.post("/auth/signup", { email, password: "password123" })).status).toBe(201);
    expect((await c.post("/auth/login", { email, password: "password123" })).status).toBe(200);
    expect((await c.get("/auth/me")).body.user.email).toBe(email);
    const dash = await c.get("/dashboard");
    expect(dash.status).toBe(200);
    expect(dash.body).toEqual({ greeting: `Hello, ${email}` });
    expect((await c.get("/admin/report")).status).toBe(403);
    expect((await c.get("/auth/logout")).status).toBe(405);
    expect((await c.post("/auth/logout")).status).toBe(200);
    expect((await c.get("/dashboard")).status).toBe(401);
  });

  it("keeps the cross-site check on the mounted routes", async () => {
    const res = await request(url, "POST", "/auth/logout", { headers: { "sec-fetch-site": "cross-site" } });
    expect(res.status).toBe(403);
  });
});

describe("the Fetch handler on its own", () => {
  it("answers Web-standard Requests without any server", async () => {
    const email = uniqueEmail();
    const post = (path: string, body: unknown, cookie?: string) =>
      latchkey.fetch(
        new Request(`http://local${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
          body: JSON.stringify(body),
        }),
      );
    expect((await post("/signup", { email, password: "password123" })).status).toBe(201);
    const login = await post("/login", { email, password: "password123" });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const me = await latchkey.fetch(new Request("http://local/me", { headers: { cookie } }));
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe(email);
    const auth = await latchkey.authenticate(new Request("http://local/anything", { headers: { cookie } }));
    expect(auth).not.toBeInstanceOf(Response);
  });
});

describe("createLatchkey() without a store", () => {
  it("opens the SQLite database DATABASE_URL names (the CLI's), and close() closes it", async () => {
    const own = createLatchkey({ config: testConfig({ DATABASE_URL: `sqlite:${dir.path}/own/app.db` }), backgroundTasks: false });
    expect(own.store.engine).toBe("sqlite");
    expect(existsSync(`${dir.path}/own/app.db`)).toBe(true);
    const email = uniqueEmail();
    const signup = await own.fetch(
      new Request("http://local/signup", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password: "password123" }) }),
    );
    expect(signup.status).toBe(201);
    await own.close();
    // Closed: the same file opened again (as `latchkey users list` would) has the account.
    const again = createSqliteStore(`${dir.path}/own/app.db`);
    expect((await again.findUserByEmail(email))?.email).toBe(email);
    await again.close();
  });

  it("says what to pass instead for PostgreSQL or Redis, which open asynchronously", () => {
    expect(() => createLatchkey({ config: testConfig({ DATABASE_URL: "postgres://u@127.0.0.1/db" }) })).toThrow(
      "createLatchkey() opens only an SQLite DATABASE_URL by itself; for PostgreSQL or Redis pass { store: await openStore(config) }",
    );
  });
});
