// GET /metrics: off without METRICS_TOKEN, guarded by it, and counting what
// happened over real HTTP (both writers of GET /me, logins by outcome, rate
// limits, store calls and failures, the session cache), with route patterns
// as labels and no secret in the exposition.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createLatchkey } from "../src/latchkey.js";
import { createMetrics } from "../src/metrics.js";
import { measuredStore } from "../src/store/measured.js";
import { createSqliteStore } from "../src/store/sqlite/index.js";
import { EmailTakenError } from "../src/store/store.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { servicesAvailable, schemaUrl, freshSchemaName, dropSchema, startTcpProxy, viaPort, TEST_DATABASE_URL, type TcpProxy } from "./helpers/services.js";
import { startTestServer, tempDir, testConfig, type TestServer } from "./helpers/server.js";

const TOKEN = "m".repeat(40);
const scrape = async (srv: TestServer, authorization = `Bearer ${TOKEN}`) =>
  request(srv.url, "GET", "/metrics", { headers: { authorization } });
/** The value of one series in the exposition (0 when absent). */
const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe("without METRICS_TOKEN", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.destroy());

  it("has no /metrics", async () => {
    expect((await scrape(srv)).status).toBe(404);
  });
});

describe("the store wrapper", () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it("is not applied without METRICS_TOKEN: the app uses the engine's own object", async () => {
    const store = createSqliteStore(join(dir.path, "off.db"));
    const latchkey = createLatchkey({ store, config: testConfig(), backgroundTasks: false });
    expect(latchkey.store).toBe(store);
    await store.close();
  });

  it("with METRICS_TOKEN wraps the store and its tokens, and keeps the engine's other properties reachable", async () => {
    const store = createSqliteStore(join(dir.path, "on.db"));
    const latchkey = createLatchkey({ store, config: testConfig({ METRICS_TOKEN: TOKEN }), backgroundTasks: false });
    const wrapped = latchkey.store as typeof store;
    expect(wrapped).not.toBe(store);
    expect(wrapped.findSession).not.toBe(store.findSession);
    expect(wrapped.tokens).not.toBe(store.tokens);
    expect(wrapped.tokens.getSetting).not.toBe(store.tokens.getSetting);
    expect(wrapped.engine).toBe("sqlite");
    expect(wrapped.db).toBe(store.db);
    expect(wrapped.sessionCacheStats()).toEqual({ hits: 0, misses: 0 }); // synchronous, not turned into a promise
    await store.close();
  });

  it("counts rejections as errors, but not a taken email (createUser's answer to a second signup)", async () => {
    const store = createSqliteStore(join(dir.path, "errors.db"));
    const metrics = createMetrics({ hasherQueued: () => 0 });
    const measured = measuredStore(store, metrics);
    const user = { id: "u1", email: "taken@example.com", passwordHash: "x", role: "user" as const, createdAt: 1 };
    await measured.createUser(user);
    await expect(measured.createUser({ ...user, id: "u2" })).rejects.toBeInstanceOf(EmailTakenError);
    await store.close();
    await expect(measured.findUserById("u1")).rejects.toThrow(/not open/); // any other rejection counts
    const body = (await metrics.render()).body;
    expect(value(body, 'latchkey_store_operation_duration_seconds_count{operation="createUser"}')).toBe(2);
    expect(value(body, 'latchkey_store_errors_total{operation="createUser"}')).toBe(0);
    expect(value(body, 'latchkey_store_errors_total{operation="findUserById"}')).toBe(1);
  });
});

describe("with METRICS_TOKEN", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { METRICS_TOKEN: TOKEN, LOGIN_EMAIL_LIMIT: "3" } });
  });
  afterAll(() => srv.destroy());

  it("answers 401 without the token or with another one, and never shows the token", async () => {
    for (const authorization of ["", "Bearer wrong", `Bearer ${TOKEN}x`, `Basic ${TOKEN}`]) {
      const res = await scrape(srv, authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(res.text).not.toContain(TOKEN);
    }
  });

  it("counts requests by route pattern and status on both GET /me writers, and logins by outcome", async () => {
    const before = (await scrape(srv)).text;
    const c = client(srv.url);
    const email = uniqueEmail("metrics");
    const password = "correct horse battery";
    expect((await c.post("/signup", { email, password })).status).toBe(201);
    expect((await c.post("/login", { email, password: "wrong password!" })).status).toBe(401);
    expect((await c.post("/login", { email, password })).status).toBe(200);
    expect((await c.get("/me")).status).toBe(200); // the Node lane
    expect((await c.get("/me?via=hono")).status).toBe(200); // Hono's route
    const sessionToken = c.cookie!.split("=")[1]!;
    const crossSite = { cookie: c.cookie!, headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" } };
    expect((await request(srv.url, "DELETE", `/sessions/${"x".repeat(20)}`, crossSite)).status).toBe(403); // refused by the guard, counted under its route
    expect((await request(srv.url, "GET", "/no-such-page-7f3a")).status).toBe(404);

    const res = await scrape(srv);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const after = res.text;
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('latchkey_http_requests_total{route="/me",method="GET",status="200"}')).toBe(2);
    expect(delta('latchkey_http_requests_total{route="/signup",method="POST",status="201"}')).toBe(1);
    expect(delta('latchkey_http_requests_total{route="/login",method="POST",status="401"}')).toBe(1);
    expect(delta('latchkey_http_requests_total{route="unmatched",method="GET",status="404"}')).toBe(1);
    expect(delta('latchkey_http_request_duration_seconds_count{route="/me",method="GET"}')).toBe(2);
    expect(delta('latchkey_http_request_duration_seconds_bucket{route="/me",method="GET",le="+Inf"}')).toBe(2);
    expect(delta('latchkey_logins_total{kind="cookie",outcome="success"}')).toBe(1);
    expect(delta('latchkey_logins_total{kind="cookie",outcome="failure"}')).toBe(1);
    expect(after).toContain("latchkey_argon2_queue_depth 0");
    expect(after).toContain("latchkey_process_resident_memory_bytes");
    // Route patterns, never raw paths; no secret of the requests above.
    expect(delta('latchkey_http_requests_total{route="/sessions/:id",method="DELETE",status="403"}')).toBe(1);
    for (const leaked of ["no-such-page-7f3a", "xxxxxxxxxxxxxxxxxxxx", "via=hono", email, password, sessionToken]) expect(after).not.toContain(leaked);
  });

  it("counts rate-limit refusals by limit, and bearer logins", async () => {
    const before = (await scrape(srv)).text;
    const email = uniqueEmail("limited");
    for (let i = 0; i < 3; i++) expect((await request(srv.url, "POST", "/token/login", { body: { email, password: "not the password" } })).status).toBe(401);
    expect((await request(srv.url, "POST", "/token/login", { body: { email, password: "not the password" } })).status).toBe(429);
    const after = (await scrape(srv)).text;
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('latchkey_rate_limited_total{limit="login"}')).toBe(1);
    expect(delta('latchkey_logins_total{kind="bearer",outcome="failure"}')).toBe(3);
    expect(delta('latchkey_logins_total{kind="bearer",outcome="rate_limited"}')).toBe(1);
  });

  it("times every session lookup, and on SQLite counts the cache's hits and misses", async () => {
    const c = client(srv.url);
    const email = uniqueEmail("cached");
    expect((await c.post("/signup", { email, password: "correct horse battery" })).status).toBe(201);
    expect((await c.post("/login", { email, password: "correct horse battery" })).status).toBe(200);
    const before = (await scrape(srv)).text;
    const LOOKUPS = 5;
    for (let i = 0; i < LOOKUPS; i++) expect((await c.get(i % 2 ? "/me?via=hono" : "/me")).status).toBe(200);
    const after = (await scrape(srv)).text;
    const delta = (series: string) => value(after, series) - value(before, series);

    expect(delta('latchkey_store_operation_duration_seconds_count{operation="findSession"}')).toBe(LOOKUPS);
    expect(delta('latchkey_store_operation_duration_seconds_bucket{operation="findSession",le="+Inf"}')).toBe(LOOKUPS);
    expect(delta('latchkey_store_operation_duration_seconds_sum{operation="findSession"}')).toBeGreaterThan(0);
    expect(delta('latchkey_store_errors_total{operation="findSession"}')).toBe(0);
    expect(after).toContain('latchkey_store_errors_total{operation="findSession"} 0');
    expect(after).toMatch(/^latchkey_store_operation_duration_seconds_count\{operation="tokens\.\w+"\} \d+$/m); // the signing key's setting, read at start
    if (srv.latchkey.store.engine === "sqlite") {
      // The login's session is not cached yet: the first lookup reads the database and keeps it.
      expect(delta('latchkey_session_cache_lookups_total{result="miss"}')).toBe(1);
      expect(delta('latchkey_session_cache_lookups_total{result="hit"}')).toBe(LOOKUPS - 1);
    } else {
      expect(after).not.toContain("latchkey_session_cache_lookups_total");
    }
  });
});

describe("a store failure, with METRICS_TOKEN", () => {
  let srv: TestServer;
  let holder: Database.Database;
  beforeAll(async () => {
    srv = await startTestServer({ engine: "sqlite", env: { METRICS_TOKEN: TOKEN } });
    // Through the wrapper to the engine's connection: wait 100 ms for the lock instead of 5 s.
    (srv.latchkey.store as unknown as { db: Database.Database }).db.pragma("busy_timeout = 100");
    holder = new Database(srv.dbPath); // a CLI or a second instance on the same file
  });
  afterAll(async () => {
    if (holder.inTransaction) holder.exec("ROLLBACK");
    holder.close();
    await srv.destroy();
  });

  it("is counted under its operation, and the request answers 503", async () => {
    const before = (await scrape(srv)).text;
    holder.exec("BEGIN IMMEDIATE");
    const res = await request(srv.url, "POST", "/signup", { body: { email: uniqueEmail("locked"), password: "password123" } });
    holder.exec("ROLLBACK");
    expect(res.status).toBe(503);
    const after = (await scrape(srv)).text;
    const delta = (series: string) => value(after, series) - value(before, series);
    // The signup's first write is its rate-limit counter: SQLITE_BUSY there ends the request.
    expect(delta('latchkey_store_errors_total{operation="hitCounter"}')).toBe(1);
    expect(delta('latchkey_store_operation_duration_seconds_count{operation="hitCounter"}')).toBe(1);
    expect(delta('latchkey_refusals_total{reason="store_unavailable"}')).toBe(1);
    const allErrors = (text: string) =>
      text.split("\n").filter((l) => l.startsWith("latchkey_store_errors_total{")).reduce((n, l) => n + Number(l.split(" ")[1]), 0);
    expect(allErrors(after) - allErrors(before)).toBe(1); // that one call, and no other
  });
});

const pgAvailable = await servicesAvailable(["postgres"], "PostgreSQL store-error metrics");

describe.skipIf(!pgAvailable)("PostgreSQL unreachable, with METRICS_TOKEN", () => {
  let srv: TestServer;
  let proxy: TcpProxy;
  const schema = freshSchemaName();
  beforeAll(async () => {
    const pgUrl = new URL(TEST_DATABASE_URL);
    proxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    srv = await startTestServer({
      env: { METRICS_TOKEN: TOKEN, STORE_CONNECT_TIMEOUT: "1s", STORE_QUERY_TIMEOUT: "1s", DATABASE_URL: viaPort(schemaUrl(schema), proxy.port) },
    });
  });
  afterAll(async () => {
    await srv?.destroy();
    await proxy?.close();
    await dropSchema(schema);
  });

  it("counts the failed session lookup under findSession, and GET /me answers 503", async () => {
    const c = client(srv.url);
    const email = uniqueEmail("pg-down");
    expect((await c.post("/signup", { email, password: "password123" })).status).toBe(201);
    expect((await c.post("/login", { email, password: "password123" })).status).toBe(200);
    const before = (await scrape(srv)).text;
    proxy.setMode("refuse");
    const me = await c.get("/me");
    proxy.setMode("up");
    expect(me.status).toBe(503);
    const after = (await scrape(srv)).text;
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('latchkey_store_errors_total{operation="findSession"}')).toBe(1);
    expect(delta('latchkey_store_operation_duration_seconds_count{operation="findSession"}')).toBe(1);
  });
});

describe("the webhook backlog", () => {
  const backlog = { pending: 3, failed: 1 };
  // Asynchronous like the outbox query it stands for: answered on a later turn.
  const source = () => new Promise<typeof backlog>((resolve) => setTimeout(() => resolve({ ...backlog }), 5));

  it("is read from its source at each scrape", async () => {
    const metrics = createMetrics({ hasherQueued: () => 0, webhookBacklog: source });
    let body = (await metrics.render()).body;
    expect(body).toContain('latchkey_webhook_backlog{state="pending"} 3');
    expect(body).toContain('latchkey_webhook_backlog{state="failed"} 1');
    backlog.pending = 0;
    backlog.failed = 7;
    body = (await metrics.render()).body;
    expect(body).toContain('latchkey_webhook_backlog{state="pending"} 0');
    expect(body).toContain('latchkey_webhook_backlog{state="failed"} 7');
  });

  it("is left out of a scrape whose source fails, and the rest is still served", async () => {
    let failing = false;
    const metrics = createMetrics({
      hasherQueued: () => 0,
      webhookBacklog: async () => {
        if (failing) throw new Error("store unavailable");
        return source();
      },
    });
    expect((await metrics.render()).body).toContain('latchkey_webhook_backlog{state="pending"}');
    failing = true;
    const body = (await metrics.render()).body;
    expect(body).not.toMatch(/^latchkey_webhook_backlog\{/m);
    expect(body).toContain("latchkey_argon2_queue_depth 0");
  });

  it("is absent without a source (webhooks not configured)", async () => {
    const body = (await createMetrics({ hasherQueued: () => 0 }).render()).body;
    expect(body).not.toContain("latchkey_webhook_backlog");
  });
});

it("refuses a METRICS_TOKEN too short to be secret", () => {
  expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN must be at least 32 characters/);
});
