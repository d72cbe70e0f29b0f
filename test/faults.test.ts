// Losing PostgreSQL or Redis under a running server: requests that need the
// engine answer 503 {error:"Service unavailable"} within the bounded
// timeouts, /readyz turns 503, the process stays up, and service resumes by
// itself. A TCP proxy between server and engine takes the engine away
// (refuse / blackhole / cut connections), so the machine's service is untouched.
import Database from "better-sqlite3";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail, type ApiResponse } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import {
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  deleteRedisPrefix,
  dropSchema,
  freshRedisPrefix,
  freshSchemaName,
  schemaUrl,
  servicesAvailable,
  startTcpProxy,
  viaPort,
  type TcpProxy,
} from "./helpers/services.js";

// Short bounds so a fault costs the test about a second, not the defaults' several.
const TIMEOUTS = { STORE_CONNECT_TIMEOUT: "1s", STORE_QUERY_TIMEOUT: "1s" };
/** Generous ceiling for "quickly": far above the 1 s bounds, far below a hang (the test timeout). */
const BOUND_MS = 10_000;

const UNAVAILABLE = { error: "Service unavailable" };

async function timed(run: () => Promise<ApiResponse>): Promise<ApiResponse & { ms: number }> {
  const start = performance.now();
  const res = await run();
  return { ...res, ms: performance.now() - start };
}

/** Repeats `run` until it answers 200 (service came back by itself); every other answer must be a clean 503. */
async function eventually200(run: () => Promise<ApiResponse>, attempts = 50): Promise<ApiResponse> {
  let last: ApiResponse | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await run();
    if (last.status === 200) return last;
    expect(last.status).toBe(503);
    expect(last.body).toEqual(UNAVAILABLE);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never recovered: last answer ${last?.status} ${last?.text}`);
}

async function signedIn(srv: TestServer) {
  const c = client(srv.url);
  const email = uniqueEmail();
  expect((await c.post("/signup", { email, password: "password123" })).status).toBe(201);
  expect((await c.post("/login", { email, password: "password123" })).status).toBe(200);
  return { c, email };
}

/** Every fault below, against one server whose `proxy` stands between it and the engine. */
function faultSuite(engineName: string, setup: () => Promise<{ srv: TestServer; proxy: TcpProxy; cleanup(): Promise<void> }>, killConnections: (proxy: TcpProxy) => Promise<number>) {
  let srv: TestServer;
  let proxy: TcpProxy;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ srv, proxy, cleanup } = await setup());
  });
  afterAll(async () => {
    await srv?.destroy();
    await proxy?.close();
    await cleanup?.();
  });

  it(`answers 503 at once while ${engineName} refuses connections, and recovers`, async () => {
    const { c } = await signedIn(srv);
    proxy.setMode("refuse");
    const me = await timed(() => c.get("/me"));
    expect(me.status).toBe(503);
    expect(me.body).toEqual(UNAVAILABLE);
    expect(me.headers.get("retry-after")).toBe("1");
    expect(me.ms).toBeLessThan(BOUND_MS);
    expect((await request(srv.url, "GET", "/readyz")).status).toBe(503);
    expect((await request(srv.url, "GET", "/healthz")).status).toBe(200); // the process is up

    proxy.setMode("up");
    expect((await eventually200(() => c.get("/me"))).body.user).toBeDefined();
    expect((await request(srv.url, "GET", "/readyz")).status).toBe(200);
  });

  it(`answers 503 within the timeouts while ${engineName} is silent (blackholed), and recovers`, async () => {
    const { c, email } = await signedIn(srv);
    proxy.setMode("blackhole");
    const me = await timed(() => c.get("/me"));
    expect(me.status).toBe(503);
    expect(me.body).toEqual(UNAVAILABLE);
    expect(me.ms).toBeLessThan(BOUND_MS);
    const login = await timed(() => request(srv.url, "POST", "/login", { body: { email, password: "password123" } }));
    expect(login.status).toBe(503);
    expect(login.ms).toBeLessThan(BOUND_MS);
    const ready = await timed(() => request(srv.url, "GET", "/readyz"));
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(BOUND_MS);

    proxy.setMode("up");
    await eventually200(() => c.get("/me"));
    expect((await request(srv.url, "POST", "/login", { body: { email, password: "password123" } })).status).toBe(200);
  });

  it(`survives ${engineName} killing its connections, without losing sessions`, async () => {
    const { c } = await signedIn(srv);
    expect(await killConnections(proxy)).toBeGreaterThan(0);
    const me = await eventually200(() => c.get("/me"));
    expect(me.body.user).toBeDefined();
    expect((await request(srv.url, "GET", "/readyz")).status).toBe(200);
  });
}

const pgAvailable = await servicesAvailable(["postgres"], "PostgreSQL fault tests");
const pgRedisAvailable = await servicesAvailable(["postgres", "redis"], "Redis fault tests");

describe.skipIf(!pgAvailable)("PostgreSQL goes away", () => {
  faultSuite(
    "PostgreSQL",
    async () => {
      const pgUrl = new URL(TEST_DATABASE_URL);
      const proxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
      const schema = freshSchemaName();
      const srv = await startTestServer({ env: { ...TIMEOUTS, DATABASE_URL: viaPort(schemaUrl(schema), proxy.port) } });
      return { srv, proxy, cleanup: () => dropSchema(schema) };
    },
    // pg_terminate_backend from another connection, aimed at exactly this server's backends.
    async (proxy) => {
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ ok: boolean }>(
          "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE client_port = ANY($1::int[])",
          [proxy.upstreamPorts()],
        );
        return rows.filter((r) => r.ok).length;
      } finally {
        await admin.end();
      }
    },
  );
});

describe.skipIf(!pgRedisAvailable)("Redis goes away (users stay in PostgreSQL)", () => {
  faultSuite(
    "Redis",
    async () => {
      const redisUrl = new URL(TEST_REDIS_URL);
      const proxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
      const schema = freshSchemaName();
      const prefix = freshRedisPrefix();
      const srv = await startTestServer({
        env: {
          ...TIMEOUTS,
          DATABASE_URL: schemaUrl(schema),
          REDIS_URL: viaPort(TEST_REDIS_URL, proxy.port),
          REDIS_PREFIX: prefix,
        },
      });
      expect(srv.latchkey.store.engine).toBe("postgres+redis");
      return {
        srv,
        proxy,
        cleanup: async () => {
          await dropSchema(schema);
          await deleteRedisPrefix(prefix);
        },
      };
    },
    // CLIENT KILL from another connection, aimed at exactly this server's connection.
    async (proxy) => {
      const admin = new Redis(TEST_REDIS_URL);
      try {
        let killed = 0;
        for (const port of proxy.upstreamPorts()) killed += Number(await admin.client("KILL", "ADDR", `127.0.0.1:${port}`).catch(() => 0) ? 1 : 0);
        return killed;
      } finally {
        admin.disconnect();
      }
    },
  );
});

describe("SQLite: another process holds the write lock past busy_timeout", () => {
  let srv: TestServer;
  let holder: Database.Database;
  beforeAll(async () => {
    srv = await startTestServer({ engine: "sqlite" });
    // The server's own connection waits 100 ms for the lock instead of 5 s, so the test is quick.
    (srv.latchkey.store as unknown as { db: Database.Database }).db.pragma("busy_timeout = 100");
    holder = new Database(srv.dbPath); // a CLI or a second instance on the same file
  });
  afterAll(async () => {
    if (holder.inTransaction) holder.exec("ROLLBACK");
    holder.close();
    await srv.destroy();
  });

  it("answers 503 (not 500) while the lock is held, writes nothing, and recovers", async () => {
    const email = uniqueEmail("locked");
    holder.exec("BEGIN IMMEDIATE");
    const locked = await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    expect(locked.status).toBe(503);
    expect(locked.body).toEqual(UNAVAILABLE);
    expect(locked.headers.get("retry-after")).not.toBeNull();
    holder.exec("ROLLBACK");
    // Nothing was half-written: the same address signs up now.
    expect((await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } })).status).toBe(201);
  });
});
