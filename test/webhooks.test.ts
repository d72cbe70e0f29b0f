// Webhooks end to end: a running server (test/helpers/server.ts) delivering
// to a real loopback receiver that verifies every signature with the
// Standard Webhooks reference library. The server's clock is the test's:
// retries become due when the test moves it, so nothing here waits on a
// timer's length, only on things happening in order.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPostgresPool } from "../src/store/postgres/connection.js";
import type { StoreUrl } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { createPostgresStore } from "../src/store/postgres/index.js";
import { BACKOFF, leaseFor } from "../src/webhooks/deliverer.js";
import { cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { ROOT } from "./helpers/process.js";
import { FAST_ARGON2, startTestServer, type TestServer, type TestServerOptions } from "./helpers/server.js";
import { dropSchema, freshSchemaName, schemaUrl, servicesAvailable, startTcpProxy, TEST_DATABASE_URL, viaPort } from "./helpers/services.js";
import { newWebhookSecret, startWebhookReceiver, type Received, type WebhookReceiver } from "./helpers/webhook-receiver.js";

/** How long vi.waitFor may wait for the background deliverer (its default, 1 s, is short on a loaded CI machine). */
const WAIT = { timeout: 10_000 };

const ADMIN_PASSWORD = "admin passphrase 1";
const HOUR = 3_600_000;
/** The longest first retry delay: moving the clock this far makes it due. */
const BACKOFF_FIRST_MAX = BACKOFF.floorMs + BACKOFF.baseMs;

interface NewTestEvent {
  userId: string | null;
  type?: string;
  details?: Record<string, unknown>;
}

/** Writes event rows marked for webhooks straight into the server's database, as the event store does. */
function eventWriter(db: StoreUrl, clock: () => number) {
  const sqlite = db.kind === "sqlite" ? new Database(db.path) : undefined;
  const pg = db.kind === "postgres" ? createPostgresPool(db.url).pool : undefined;
  return {
    async insert(e: NewTestEvent): Promise<string> {
      const id = `evt_${randomBytes(10).toString("hex")}`;
      const row = [id, clock(), e.type ?? "test.event", e.userId, JSON.stringify(e.details ?? {})];
      if (sqlite) {
        sqlite.prepare("INSERT INTO events (id, at, type, user_id, ip, details, webhook_pending) VALUES (?, ?, ?, ?, '127.0.0.1', ?, 1)").run(...row);
      } else {
        await pg!.query("INSERT INTO events (id, at, type, user_id, ip, details, webhook_pending) VALUES ($1, $2, $3, $4, '127.0.0.1', $5, true)", row);
      }
      return id;
    },
    async close() {
      sqlite?.close();
      await pg?.end();
    },
  };
}

interface Ctx {
  srv: TestServer;
  receiver: WebhookReceiver;
  secret: string;
  events: ReturnType<typeof eventWriter>;
  admin(): Promise<string>;
  /** Every event so far delivered (the server's own, e.g. the first admin's signup). */
  drained(): Promise<void>;
  /** The deliverer's counts since the last drained(). */
  since(): { delivered: number; retried: number; failed: number };
}

let open: Ctx[] = [];
/** Run after the servers are gone (a restarted server's predecessor owns the temp directory). */
let later: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of open) {
    await c.srv.destroy();
    await c.receiver.close();
    await c.events.close();
  }
  for (const f of later) await f();
  open = [];
  later = [];
});

async function setup(env: Record<string, string> = {}, options: Omit<TestServerOptions, "env"> = {}): Promise<Ctx> {
  const secret = newWebhookSecret();
  const receiver = await startWebhookReceiver(secret);
  const adminEmail = uniqueEmail("admin");
  const srv = await startTestServer({
    ...options,
    env: {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: secret,
      WEBHOOK_POLL_INTERVAL: "20ms",
      LATCHKEY_ADMIN_EMAIL: adminEmail,
      LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...env,
    },
  });
  let base = { delivered: 0, retried: 0, failed: 0 };
  const ctx: Ctx = {
    srv,
    receiver,
    secret,
    events: eventWriter(srv.latchkey.config.database, srv.clock),
    async admin() {
      const res = await request(srv.url, "POST", "/login", { body: { email: adminEmail, password: ADMIN_PASSWORD } });
      expect(res.status).toBe(200);
      return cookiePair(res.setCookie);
    },
    async drained() {
      await vi.waitFor(async () => expect((await srv.latchkey.webhooks.backlog()).pending).toBe(0), WAIT);
      base = srv.latchkey.webhooks.stats()!;
    },
    since() {
      const now = srv.latchkey.webhooks.stats()!;
      return { delivered: now.delivered - base.delivered, retried: now.retried - base.retried, failed: now.failed - base.failed };
    },
  };
  open.push(ctx);
  // The first admin's signup is an event too: delivered before the test's own start.
  await ctx.drained();
  return ctx;
}

const pgUp = await servicesAvailable(["postgres"], "webhook deliverer with PostgreSQL going away");

const of = (id: string) => (r: Received) => r.id === id;
const acked = (received: Received[], id: string) => received.some((r) => r.id === id && r.answered === 200);
const stats = (c: Ctx) => c.since();

describe("webhook delivery", () => {
  it("signs each delivery per Standard Webhooks: the reference library verifies it, with the event's id as webhook-id", async () => {
    const c = await setup();
    const id = await c.events.insert({ userId: "usr_sign", type: "login.success", details: { method: "password" } });
    await c.receiver.until((rs) => rs.some(of(id)));
    const got = c.receiver.received.find(of(id))!;
    expect(got.verified).toBe(true);
    expect(got.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(got.payload).toEqual({
      type: "login.success",
      timestamp: new Date(c.srv.clock()).toISOString(),
      data: {
        id,
        type: "login.success",
        at: new Date(c.srv.clock()).toISOString(),
        userId: "usr_sign",
        actorId: null,
        sessionId: null,
        ip: "127.0.0.1",
        userAgent: null,
        details: { method: "password" },
      },
    });
    // The signature is the secret's: another secret does not verify it.
    const headers = { "webhook-id": got.id, "webhook-timestamp": got.timestamp, "webhook-signature": got.signature };
    expect(() => new Webhook(newWebhookSecret()).verify(got.body, headers)).toThrow();
    await vi.waitFor(async () => expect(await c.srv.latchkey.webhooks.backlog()).toEqual({ pending: 0, failed: 0 }), WAIT);
  });

  it("a receiver answering 500 gets the event again, same webhook-id and body, until it answers 2xx", async () => {
    const c = await setup();
    let first = true;
    c.receiver.respond(() => (first ? ((first = false), 500) : 200));
    const id = await c.events.insert({ userId: "usr_retry" });
    await c.receiver.until((rs) => rs.some(of(id)));
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT);
    c.srv.clock.advance(2 * BACKOFF_FIRST_MAX); // the first retry is due within this
    await c.receiver.until((rs) => acked(rs, id));
    const attempts = c.receiver.received.filter(of(id));
    expect(attempts.map((r) => r.answered)).toEqual([500, 200]);
    expect(attempts.every((r) => r.verified)).toBe(true);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    await vi.waitFor(async () => expect(await c.srv.latchkey.webhooks.backlog()).toEqual({ pending: 0, failed: 0 }), WAIT);
  });

  it("with two endpoints, each gets every event on its own: one being down does not hold the other back", async () => {
    const secret = newWebhookSecret();
    const up = await startWebhookReceiver(secret, "/up");
    const down = await startWebhookReceiver(secret, "/down");
    later.push(() => up.close(), () => down.close());
    const c = await setup({ WEBHOOK_URL: `${up.url} , ${down.url}`, WEBHOOK_SECRET: secret });
    await down.down();
    const id = await c.events.insert({ userId: "usr_two" });
    await up.until((rs) => acked(rs, id));
    expect(up.received.find(of(id))!.verified).toBe(true);
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT); // the refused attempt is recorded, its retry scheduled
    await down.up();
    c.srv.clock.advance(2 * HOUR);
    await down.until((rs) => acked(rs, id));
    expect(down.received.filter(of(id)).map((r) => r.answered)).toEqual([200]);
    expect(up.received.filter(of(id))).toHaveLength(1); // delivered once there, not again with the other's retry
  });

  it("a redirect is a failed attempt, never followed (it could lead to another host)", async () => {
    const c = await setup();
    c.receiver.respond((r) => (r.path.includes("followed") ? 200 : 307));
    const id = await c.events.insert({ userId: "usr_redirect" });
    await c.receiver.until((rs) => rs.some(of(id)));
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT);
    expect(c.receiver.received.filter(of(id)).map((r) => [r.path, r.answered])).toEqual([["/hook", 307]]);
    // Due again once the clock moves: sent to the configured URL again, not to the Location.
    c.srv.clock.advance(2 * BACKOFF_FIRST_MAX);
    await c.receiver.until((rs) => rs.filter(of(id)).length === 2);
    expect(c.receiver.received.filter(of(id)).map((r) => r.path)).toEqual(["/hook", "/hook"]);
  });

  it("a receiver that is down for a while gets everything, once each user's in order, when it is back", async () => {
    const c = await setup();
    await c.receiver.down();
    const ids: Record<string, string[]> = { usr_a: [], usr_b: [], usr_c: [] };
    for (const user of ["usr_a", "usr_b", "usr_a", "usr_c", "usr_a", "usr_b"]) ids[user]!.push(await c.events.insert({ userId: user }));
    // Every user's first event was tried and refused (the others wait behind them).
    await vi.waitFor(() => expect(stats(c).retried).toBe(3), WAIT);
    const all = Object.values(ids).flat();
    expect(c.receiver.received.filter((r) => all.includes(r.id))).toEqual([]);
    await c.receiver.up();
    c.srv.clock.advance(2 * HOUR); // past the backoff cap: everything is due
    await c.receiver.until((rs) => all.every((id) => acked(rs, id)));
    for (const user of Object.keys(ids)) {
      const arrived = c.receiver.received.filter((r) => r.payload?.data.userId === user).map((r) => r.id);
      expect(arrived).toEqual(ids[user]);
    }
    expect(c.receiver.received.every((r) => r.verified)).toBe(true);
  });

  it("per user, a later event never arrives before an earlier one is acknowledged; other users do not wait", async () => {
    const c = await setup();
    const e1 = await c.events.insert({ userId: "usr_slow" });
    const e2 = await c.events.insert({ userId: "usr_slow" });
    const e3 = await c.events.insert({ userId: "usr_slow" });
    const other = await c.events.insert({ userId: "usr_other" });
    let refusedOnce = false;
    c.receiver.respond((r) => (r.id === e1 && !refusedOnce ? ((refusedOnce = true), 503) : 200));
    // usr_other's event arrives while usr_slow's first is still waiting for its retry.
    await c.receiver.until((rs) => acked(rs, other) && rs.some(of(e1)));
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT);
    expect(c.receiver.received.some((r) => r.id === e2 || r.id === e3)).toBe(false);
    c.srv.clock.advance(2 * BACKOFF_FIRST_MAX);
    await c.receiver.until((rs) => acked(rs, e3));
    const slow = c.receiver.received.filter((r) => r.payload?.data.userId === "usr_slow").map((r) => [r.id, r.answered]);
    expect(slow).toEqual([[e1, 503], [e1, 200], [e2, 200], [e3, 200]]);
  });

  it("past WEBHOOK_MAX_AGE it is failed, listed for admins, and redelivered on request", async () => {
    const c = await setup({ WEBHOOK_MAX_AGE: "1h" });
    const admin = await c.admin();
    await c.drained(); // the admin's login event
    c.receiver.respond(500);
    const id = await c.events.insert({ userId: "usr_failed", type: "password.changed" });
    await c.receiver.until((rs) => rs.some(of(id)));
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT);
    c.srv.clock.advance(2 * HOUR); // the next attempt fails too, and another would be past the hour
    await vi.waitFor(() => expect(stats(c).failed).toBe(1), WAIT);

    const list = await request(c.srv.url, "GET", "/admin/webhooks/failed", { cookie: admin });
    expect(list.status).toBe(200);
    const listed = list.body.deliveries.filter((d: { event: { id: string } }) => d.event.id === id);
    expect(listed).toEqual([
      {
        endpoint: c.receiver.url,
        event: expect.objectContaining({ id, type: "password.changed", userId: "usr_failed" }),
        attempts: 2,
        createdAt: expect.any(String),
        lastError: "HTTP 500",
      },
    ]);
    expect(list.body.nextCursor).toBeNull();

    c.receiver.respond(200);
    const before = c.receiver.received.filter(of(id)).length;
    // Two hours on, the admin's sign-in is too old for an admin action: re-authenticate first.
    const stale = await request(c.srv.url, "POST", "/admin/webhooks/redeliver", { cookie: admin, body: { eventId: id } });
    expect(stale.body.error).toBe("Re-authentication required");
    const reauth = await request(c.srv.url, "POST", "/reauth", { cookie: admin, body: { password: ADMIN_PASSWORD } });
    expect(reauth.status).toBe(200);
    const fresh = cookiePair(reauth.setCookie);
    const again = await request(c.srv.url, "POST", "/admin/webhooks/redeliver", { cookie: fresh, body: { eventId: id } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ redelivered: 1 });
    await c.receiver.until((rs) => acked(rs, id));
    const attempts = c.receiver.received.filter(of(id));
    expect(attempts.slice(before).map((r) => r.answered)).toEqual([200]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    const empty = await request(c.srv.url, "GET", "/admin/webhooks/failed", { cookie: fresh });
    expect(empty.body.deliveries.filter((d: { event: { id: string } }) => d.event.id === id)).toEqual([]);
  });

  it("a signup's event arrives, signed, with the created user's id", async () => {
    const c = await setup();
    const email = uniqueEmail("signup");
    const res = await request(c.srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    expect(res.status).toBe(201);
    const userId = res.body.user.id as string;
    await c.receiver.until((rs) => rs.some((r) => r.payload?.type === "signup" && r.payload.data.userId === userId));
    const got = c.receiver.received.find((r) => r.payload?.data.userId === userId)!;
    expect(got.verified).toBe(true);
    expect(got.id).toMatch(/^evt_/);
    expect(got.id).toBe(got.payload!.data.id);
    expect(got.body).not.toContain(email); // events carry ids, never credentials or addresses
  });

  it("the request that caused an event is answered while its delivery hangs (the receiver never responds)", async () => {
    // An hour-long attempt timeout: were delivery part of the request, the request would not be answered in this test.
    const c = await setup({ WEBHOOK_TIMEOUT: "1h", WEBHOOK_MAX_AGE: "2h" });
    c.receiver.respond("hang");
    const email = uniqueEmail("hang");
    const signup = await request(c.srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    expect(signup.status).toBe(201);
    const userId = signup.body.user.id as string;
    await c.receiver.hanging();
    const held = c.receiver.received.filter((r) => r.payload?.data.userId === userId);
    expect(held.map((r) => [r.payload!.type, r.answered])).toEqual([["signup", "hang"]]);
    // Still held, and the server goes on answering (this login's event queues behind the held one).
    const login = await request(c.srv.url, "POST", "/login", { body: { email, password: "password123" } });
    expect(login.status).toBe(200);
    expect(c.receiver.received.filter((r) => r.payload?.data.userId === userId).map((r) => r.payload!.type)).toEqual(["signup"]);
  });

  it("a request is answered while another event's delivery hangs", async () => {
    const c = await setup();
    c.receiver.respond("hang");
    const stuck = await c.events.insert({ userId: "usr_hang" });
    await c.receiver.hanging(); // a delivery is in flight and will not be answered
    const signup = await request(c.srv.url, "POST", "/signup", { body: { email: uniqueEmail("hang"), password: "password123" } });
    expect(signup.status).toBe(201);
    const login = await request(c.srv.url, "POST", "/login", { body: { email: signup.body.user.email, password: "password123" } });
    expect(login.status).toBe(200);
    // Still held: both answers came while the delivery hung.
    expect(c.receiver.received.filter(of(stuck)).map((r) => r.answered)).toEqual(["hang"]);
    expect(acked(c.receiver.received, stuck)).toBe(false);
  });
});

/** `latchkey ...args` (the built CLI, as an operator runs it) on the server's database. */
async function cli(srv: TestServer, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const db = srv.latchkey.config.database;
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: "test", LOG_LEVEL: "silent", ...FAST_ARGON2 };
  for (const name of ["LATCHKEY_ADMIN_EMAIL", "LATCHKEY_ADMIN_PASSWORD", "WEBHOOK_URL", "WEBHOOK_SECRET", "REDIS_URL"]) delete env[name];
  env.DATABASE_URL = db.kind === "sqlite" ? `sqlite:${db.path}` : db.url;
  const child = spawn(process.execPath, [join(ROOT, "bin/latchkey.js"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const [code] = await once(child, "exit");
  return { code: code as number | null, stdout, stderr };
}

describe("latchkey webhooks (CLI)", () => {
  it("lists failed deliveries and redelivers one, which the server then sends", async () => {
    const c = await setup({ WEBHOOK_MAX_AGE: "1h" });
    c.receiver.respond(500);
    const id = await c.events.insert({ userId: "usr_cli", type: "role.changed" });
    await c.receiver.until((rs) => rs.some(of(id)));
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT);
    c.srv.clock.advance(2 * HOUR);
    await vi.waitFor(() => expect(stats(c).failed).toBe(1), WAIT);

    const listed = await cli(c.srv, ["webhooks", "failed", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ endpoint: c.receiver.url, attempts: 2, lastError: "HTTP 500", event: expect.objectContaining({ id, type: "role.changed" }) })]);
    const table = await cli(c.srv, ["webhooks", "failed"]);
    expect(table.stdout).toContain(id);

    expect((await cli(c.srv, ["webhooks", "redeliver"])).code).toBe(2); // neither --event nor --all
    expect((await cli(c.srv, ["webhooks", "redeliver", "--event", id, "--all"])).code).toBe(2);
    const unknown = await cli(c.srv, ["webhooks", "redeliver", "--event", "evt_nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No failed delivery of event evt_nope");

    c.receiver.respond(200);
    const again = await cli(c.srv, ["webhooks", "redeliver", "--event", id]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^1 delivery back to pending/);
    // The CLI stamps the redelivery with the real time; the server's clock catches up with it.
    c.srv.clock.set(Date.now() + 1000);
    await c.receiver.until((rs) => acked(rs, id));
    expect((await cli(c.srv, ["webhooks", "failed"])).stdout.trim()).toBe("No failed webhook deliveries");
  });
});

describe("webhook deliverer lifecycle", () => {
  it("a graceful stop does not wait for a hanging receiver; after the restart the abandoned delivery goes out with the same id", async () => {
    const c = await setup({ WEBHOOK_TIMEOUT: "1h", WEBHOOK_MAX_AGE: "3h" });
    c.receiver.respond("hang");
    const id = await c.events.insert({ userId: "usr_stop" });
    await c.receiver.hanging();
    // close() resolves while the receiver still holds the request: the attempt was abandoned, not awaited for an hour.
    const first = c.srv;
    const restarted = await first.restart();
    c.srv = restarted;
    later.push(() => first.destroy());
    expect(c.receiver.received.filter(of(id)).map((r) => r.answered)).toEqual(["hang"]);
    c.receiver.respond(200);
    // Its lease (2 x WEBHOOK_TIMEOUT + 1 s) still holds it; once run out, the new process sends it.
    restarted.clock.advance(leaseFor(3_600_000));
    await c.receiver.until((rs) => acked(rs, id));
    const attempts = c.receiver.received.filter(of(id));
    expect(attempts.map((r) => r.answered)).toEqual(["hang", 200]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
  });

  it.skipIf(!pgUp)("goes on after the database goes away and comes back (PostgreSQL through a proxy)", async () => {
    const schema = freshSchemaName();
    await (await createPostgresStore(schemaUrl(schema))).close(); // migrated; the server reaches it only through the proxy
    const target = new URL(TEST_DATABASE_URL);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const lines: string[] = [];
    const logger = createLogger("warn", { write: (line: string) => void lines.push(line) });
    const direct = eventWriter({ kind: "postgres", url: schemaUrl(schema) }, Date.now);
    try {
      const c = await setup({ DATABASE_URL: viaPort(schemaUrl(schema), proxy.port), STORE_CONNECT_TIMEOUT: "500ms", STORE_QUERY_TIMEOUT: "500ms" }, { logger });
      proxy.setMode("refuse");
      await vi.waitFor(() => expect(lines.some((l) => l.includes('"webhook.loop_failed"'))).toBe(true), { timeout: 10_000 });
      const id = await direct.insert({ userId: "usr_outage" }); // written while the server cannot reach the database
      proxy.setMode("up");
      await c.receiver.until((rs) => acked(rs, id));
    } finally {
      await direct.close();
      await proxy.close();
      for (const c of open) await c.srv.destroy().catch(() => {});
      await dropSchema(schema);
    }
  });
});

describe("webhook metrics", () => {
  it("GET /metrics shows the outbox backlog: pending while the receiver is down, failed once given up", async () => {
    const token = "m".repeat(40);
    const c = await setup({ METRICS_TOKEN: token, WEBHOOK_MAX_AGE: "1h" });
    const scrape = async () => (await request(c.srv.url, "GET", "/metrics", { headers: { authorization: `Bearer ${token}` } })).text;
    await c.receiver.down();
    await c.events.insert({ userId: "usr_metrics" });
    await vi.waitFor(() => expect(stats(c).retried).toBe(1), WAIT);
    const pending = await scrape();
    expect(pending).toContain('latchkey_webhook_backlog{state="pending"} 1');
    expect(pending).toContain('latchkey_webhook_backlog{state="failed"} 0');
    c.srv.clock.advance(2 * HOUR);
    await vi.waitFor(() => expect(stats(c).failed).toBe(1), WAIT);
    const failed = await scrape();
    expect(failed).toContain('latchkey_webhook_backlog{state="pending"} 0');
    expect(failed).toContain('latchkey_webhook_backlog{state="failed"} 1');
  });
});

describe("admin webhook routes", () => {
  it("answer 401 without a session, 403 to a non-admin, 400 to bad input (never 500)", async () => {
    const c = await setup();
    expect((await request(c.srv.url, "GET", "/admin/webhooks/failed")).status).toBe(401);
    const email = uniqueEmail("plain");
    await request(c.srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    const user = cookiePair((await request(c.srv.url, "POST", "/login", { body: { email, password: "password123" } })).setCookie);
    expect((await request(c.srv.url, "GET", "/admin/webhooks/failed", { cookie: user })).status).toBe(403);
    expect((await request(c.srv.url, "POST", "/admin/webhooks/redeliver", { cookie: user, body: { all: true } })).status).toBe(403);

    const admin = await c.admin();
    const badCursor = await request(c.srv.url, "GET", "/admin/webhooks/failed?cursor=nonsense", { cookie: admin });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.issues[0]).toMatchObject({ path: "cursor" });
    for (const body of [{}, { all: false }, { eventId: "" }, { eventId: 5 }, { eventId: "evt_x", all: true }, []]) {
      const res = await request(c.srv.url, "POST", "/admin/webhooks/redeliver", { cookie: admin, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.issues.length).toBeGreaterThan(0);
    }
    expect((await request(c.srv.url, "POST", "/admin/webhooks/redeliver", { cookie: admin, raw: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    const none = await request(c.srv.url, "POST", "/admin/webhooks/redeliver", { cookie: admin, body: { all: true } });
    expect(none.body).toEqual({ redelivered: 0 });
  });
});
