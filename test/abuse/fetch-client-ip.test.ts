// The Fetch handler on its own (Deno.serve, Bun.serve, Workers): no socket, so
// the client address comes from createLatchkey's clientIp hook. Here the hook
// reads the second argument of fetch, as `Deno.serve((req, info) =>
// latchkey.fetch(req, info))` would give it. Real SQLite on disk, default limits.
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLatchkey, createSqliteStore, type Latchkey } from "../../src/index.js";
import { createLogger } from "../../src/log.js";
import { uniqueEmail } from "../helpers/http.js";
import { createTestClock, tempDir, testConfig, type TestClock } from "../helpers/server.js";
import { DEFAULT_LIMITS, PASSWORD, TOO_MANY } from "./helpers.js";

/** What the runtime knows about the connection: its peer address, or nothing. */
interface ConnInfo {
  remote: string | null;
}

let dir: ReturnType<typeof tempDir>;
let latchkey: Latchkey;
let clock: TestClock;
let logLines: string[];

function start(env: Record<string, string> = {}, hook = true) {
  logLines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  latchkey = createLatchkey({
    logger: createLogger("warn", sink),
    config: testConfig({ ...DEFAULT_LIMITS, PASSWORD_REJECT_COMMON: "false", ...env }),
    store: createSqliteStore(`${dir.path}/fetch.db`),
    clock,
    backgroundTasks: false,
    ...(hook ? { clientIp: (_request: Request, info: unknown) => (info as ConnInfo).remote } : {}),
  });
}

beforeEach(() => {
  dir = tempDir();
  clock = createTestClock();
  start();
});
afterEach(async () => {
  latchkey.stop();
  await latchkey.store.close();
  dir.remove();
});

async function post(path: string, body: unknown, remote: string | null, headers: Record<string, string> = {}) {
  const res = await latchkey.fetch(
    new Request(`http://local${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
    { remote } satisfies ConnInfo,
  );
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, cookie: res.headers.get("set-cookie")?.split(";")[0] };
}

const login = (email: string, password: string, remote: string | null) => post("/login", { email, password }, remote);

/** `n` wrong passwords for `email`, the clock moving so the per-email limit (5/min) never interferes. */
async function fail(email: string, remote: string | null, n: number) {
  for (let i = 0; i < n; i++) {
    expect((await login(email, "wrong-password", remote)).status).toBe(401);
    clock.advance(13_000);
  }
}

async function sessionIps(cookie: string): Promise<string[]> {
  const res = await latchkey.fetch(new Request("http://local/sessions", { headers: { cookie } }), { remote: "192.0.2.200" });
  const body = (await res.json()) as { sessions: { ip: string | null }[] };
  return body.sessions.map((s) => s.ip!);
}

describe("latchkey.fetch with a clientIp hook", () => {
  it("counts each address on its own: one address's failed logins do not 429 another", async () => {
    for (let i = 0; i < 20; i++) expect((await login(uniqueEmail(), "wrong-password", "203.0.113.1")).status).toBe(401);
    const refused = await login(uniqueEmail(), "wrong-password", "203.0.113.1");
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(TOO_MANY);
    expect((await login(uniqueEmail(), "wrong-password", "203.0.113.2")).status).toBe(401);
    expect(logLines.join("\n")).not.toContain("client_ip.unknown"); // every address was known
  });

  it("ten wrong passwords from one address lock that pair only: the owner elsewhere gets in", async () => {
    const email = uniqueEmail();
    expect((await post("/signup", { email, password: PASSWORD }, "198.51.100.1")).status).toBe(201);
    await fail(email, "203.0.113.3", 10);
    expect((await login(email, PASSWORD, "203.0.113.3")).status).toBe(429);
    expect((await login(email, PASSWORD, "198.51.100.1")).status).toBe(200);
  });

  it("records the hook's address on the session, with TRUST_PROXY walked from it", async () => {
    const email = uniqueEmail();
    expect((await post("/signup", { email, password: PASSWORD }, "198.51.100.2")).status).toBe(201);
    const direct = await login(email, PASSWORD, "198.51.100.2");
    expect(await sessionIps(direct.cookie!)).toEqual(["198.51.100.2"]);

    latchkey.stop();
    await latchkey.store.close();
    start({ TRUST_PROXY: "10.0.0.0/8" });
    const xff = { "x-forwarded-for": "203.0.113.50" };
    // From the trusted proxy 10.0.0.5, its X-Forwarded-For names the client; from anyone else it is ignored.
    const proxied = await post("/login", { email, password: PASSWORD }, "10.0.0.5", xff);
    expect(await sessionIps(proxied.cookie!)).toContain("203.0.113.50");
    const spoofed = await post("/login", { email, password: PASSWORD }, "198.51.100.3", xff);
    expect(await sessionIps(spoofed.cookie!)).toContain("198.51.100.3");
    expect(await sessionIps(spoofed.cookie!)).not.toContain("10.0.0.5");
  });
});

describe("an unknown client address (the hook says null, or no hook on a runtime without sockets)", () => {
  it("never locks the owner out: failures from an unknown address lock no (email, IP) pair", async () => {
    const email = uniqueEmail();
    expect((await post("/signup", { email, password: PASSWORD }, null)).status).toBe(201);
    await fail(email, null, 10);
    expect((await login(email, PASSWORD, "198.51.100.4")).status).toBe(200);
    clock.advance(13_000);
    expect((await login(email, PASSWORD, null)).status).toBe(200);
  });

  it("shares no per-IP bucket: one unknown client's failures do not 429 the others", async () => {
    for (let i = 0; i < 25; i++) expect((await login(uniqueEmail(), "wrong-password", null)).status).toBe(401);
    const email = uniqueEmail();
    expect((await post("/signup", { email, password: PASSWORD }, null)).status).toBe(201);
    expect((await login(email, PASSWORD, null)).status).toBe(200);
  });

  it("still has the per-email limit and the account lockout", async () => {
    const email = uniqueEmail();
    for (let i = 0; i < 5; i++) expect((await login(email, "wrong-password", null)).status).toBe(401);
    expect((await login(email, "wrong-password", null)).status).toBe(429);
  });

  it("without a hook, latchkey.fetch knows no address, and the owner is not locked out either", async () => {
    latchkey.stop();
    await latchkey.store.close();
    start({}, false);
    const email = uniqueEmail();
    expect((await post("/signup", { email, password: PASSWORD }, "198.51.100.6")).status).toBe(201);
    await fail(email, "203.0.113.6", 10); // the hook's address is not read: these are unknown
    expect((await login(email, PASSWORD, "198.51.100.6")).status).toBe(200);
    // The operator is told, once.
    const warnings = logLines.filter((l) => l.includes('"event":"client_ip.unknown"'));
    expect(warnings).toHaveLength(1);
  });

  it("is what an address the hook cannot spell becomes", async () => {
    const email = uniqueEmail();
    expect((await post("/signup", { email, password: PASSWORD }, "198.51.100.5")).status).toBe(201);
    await fail(email, "not an address", 10);
    expect((await login(email, PASSWORD, "not an address")).status).toBe(200);
  });
});
