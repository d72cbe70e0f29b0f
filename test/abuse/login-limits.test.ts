// Login and signup rate limits, lockout and recovery, over real HTTP with the
// default limits and an injectable clock for the windows.
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { uniqueEmail } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { login, PASSWORD, retryAfter, signup, startLimitedServer, TOO_MANY } from "./helpers.js";

let srv: TestServer;
beforeEach(async () => {
  srv = await startLimitedServer();
});
afterEach(() => srv.destroy());

const MINUTE = 60_000;

describe("login rate limit per client IP (default 20/min)", () => {
  it("refuses the 21st attempt in a minute from one IP with 429 + Retry-After, whatever the email", async () => {
    for (let i = 0; i < 20; i++) expect((await login(srv, uniqueEmail(), "wrong-password", "203.0.113.7")).status).toBe(401);
    srv.clock.advance(15_000);
    const refused = await login(srv, uniqueEmail(), "wrong-password", "203.0.113.7");
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(TOO_MANY);
    expect(retryAfter(refused)).toBe(45);
    expect(refused.setCookie).toBeNull();
    // Another client is not affected.
    expect((await login(srv, uniqueEmail(), "wrong-password", "203.0.113.8")).status).toBe(401);
  });

  it("checks before the password: even the right password is refused while over the limit", async () => {
    const email = uniqueEmail();
    expect((await signup(srv, email)).status).toBe(201);
    for (let i = 0; i < 20; i++) await login(srv, uniqueEmail(), "wrong-password", "203.0.113.9");
    const res = await login(srv, email, PASSWORD, "203.0.113.9");
    expect(res.status).toBe(429);
    expect(res.setCookie).toBeNull();
  });

  it("lets the client in again when the window ends", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    for (let i = 0; i < 21; i++) await login(srv, uniqueEmail(), "wrong-password", "203.0.113.10");
    srv.clock.advance(MINUTE);
    expect((await login(srv, email, PASSWORD, "203.0.113.10")).status).toBe(200);
  });

  it("counts an IPv6 client per /64, so rotating addresses inside it does not help", async () => {
    for (let i = 0; i < 20; i++) await login(srv, uniqueEmail(), "wrong-password", `2001:db8:1:2::${(i + 1).toString(16)}`);
    const res = await login(srv, uniqueEmail(), "wrong-password", "2001:db8:1:2:ffff:ffff:ffff:ffff");
    expect(res.status).toBe(429);
    expect((await login(srv, uniqueEmail(), "wrong-password", "2001:db8:1:3::1")).status).toBe(401);
  });
});

describe("login rate limit per email (default 5/min)", () => {
  it("refuses the 6th attempt in a minute for one email, from any IP, with the same body", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    for (let i = 0; i < 5; i++) expect((await login(srv, email, "wrong-password", `203.0.113.${20 + i}`)).status).toBe(401);
    const refused = await login(srv, email, PASSWORD, "203.0.113.99");
    expect(refused.status).toBe(429);
    expect(refused.text).toBe(JSON.stringify(TOO_MANY));
    expect(retryAfter(refused)).toBe(60);
    // An unknown email is limited exactly the same way (counting reveals nothing).
    const ghost = uniqueEmail("ghost");
    for (let i = 0; i < 5; i++) await login(srv, ghost, "wrong-password", `203.0.113.${40 + i}`);
    const ghostRefused = await login(srv, ghost, "wrong-password", "203.0.113.98");
    expect(ghostRefused.status).toBe(429);
    expect(ghostRefused.text).toBe(refused.text);

    srv.clock.advance(MINUTE);
    expect((await login(srv, email, PASSWORD, "203.0.113.99")).status).toBe(200);
  });

  it("a client already over its IP limit does not use up the victim's per-email budget", async () => {
    const victim = uniqueEmail("victim");
    await signup(srv, victim);
    for (let i = 0; i < 20; i++) await login(srv, uniqueEmail(), "wrong-password", "203.0.113.50");
    for (let i = 0; i < 10; i++) expect((await login(srv, victim, "wrong-password", "203.0.113.50")).status).toBe(429);
    expect((await login(srv, victim, PASSWORD, "203.0.113.51")).status).toBe(200);
  });
});

describe("account lockout", () => {
  /** `n` wrong passwords for `email` from `ip`, moving the clock so the per-email rate limit never interferes. */
  async function fail(email: string, ip: string, n: number) {
    for (let i = 0; i < n; i++) {
      expect((await login(srv, email, "wrong-password", ip)).status).toBe(401);
      srv.clock.advance(13_000); // < 5 a minute
    }
  }

  it("locks the (email, IP) pair for 15 minutes after 10 consecutive failures; the owner elsewhere still gets in", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    await fail(email, "203.0.113.60", 10);
    const locked = await login(srv, email, PASSWORD, "203.0.113.60");
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual(TOO_MANY);
    expect(retryAfter(locked)).toBe(15 * 60 - 13);
    expect(locked.setCookie).toBeNull();
    // The attacker locked only themselves out: the owner, from another address, logs in.
    expect((await login(srv, email, PASSWORD, "203.0.113.61")).status).toBe(200);

    srv.clock.advance(15 * MINUTE - 14_000);
    expect((await login(srv, email, PASSWORD, "203.0.113.60")).status).toBe(429);
    srv.clock.advance(1_000);
    expect((await login(srv, email, PASSWORD, "203.0.113.60")).status).toBe(200);
  });

  it("a success clears the failure count", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    await fail(email, "203.0.113.62", 9);
    expect((await login(srv, email, PASSWORD, "203.0.113.62")).status).toBe(200);
    srv.clock.advance(13_000);
    await fail(email, "203.0.113.62", 9);
    expect((await login(srv, email, PASSWORD, "203.0.113.62")).status).toBe(200);
  });

  it("forgets failures older than LOCKOUT_FAILURE_WINDOW (1 h)", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    await fail(email, "203.0.113.63", 9);
    srv.clock.advance(60 * MINUTE);
    await fail(email, "203.0.113.63", 1);
    expect((await login(srv, email, PASSWORD, "203.0.113.63")).status).toBe(200);
  });

  it("locks the account for everyone at LOCKOUT_ACCOUNT_THRESHOLD failures from many addresses", async () => {
    await srv.destroy();
    srv = await startLimitedServer({ LOCKOUT_ACCOUNT_THRESHOLD: "12" });
    const email = uniqueEmail();
    await signup(srv, email);
    for (let i = 0; i < 12; i++) await fail(email, `198.51.100.${i + 1}`, 1);
    const res = await login(srv, email, PASSWORD, "192.0.2.200");
    expect(res.status).toBe(429);
    expect(res.body).toEqual(TOO_MANY);
    expect(retryAfter(res)).toBe(15 * 60 - 13);
    srv.clock.advance(15 * MINUTE);
    expect((await login(srv, email, PASSWORD, "192.0.2.200")).status).toBe(200);
  });

  it("keeps a lock across a restart (the counters live in the store)", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    await fail(email, "203.0.113.64", 10);
    srv = await srv.restart();
    // The restarted server does not own the temporary directory: remove it after afterEach closed the server.
    const dir = dirname(srv.dbPath);
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect((await login(srv, email, PASSWORD, "203.0.113.64")).status).toBe(429);
  });
});

describe("counter expiry", () => {
  // Reads the SQLite file; on other engines the store contract suite covers counter pruning.
  it.skipIf((process.env.TEST_ENGINE ?? "sqlite") !== "sqlite")("prunes counters whose window has ended, in the background task", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    for (let i = 0; i < 10; i++) await login(srv, email, "wrong-password", `203.0.113.${90 + (i % 2)}`);
    const db = new Database(srv.dbPath, { readonly: true });
    const counters = () => (db.prepare("SELECT count(*) AS n FROM counters").get() as { n: number }).n;
    try {
      expect(counters()).toBeGreaterThan(0);
      srv.clock.advance(2 * 60 * MINUTE); // past every window (the longest default is 1 h)
      await srv.latchkey.pruneNow();
      expect(counters()).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe("signup rate limit per client IP (default 10/hour)", () => {
  it("refuses the 11th signup in an hour from one IP, with Retry-After, and creates no user", async () => {
    for (let i = 0; i < 10; i++) expect((await signup(srv, uniqueEmail(), PASSWORD, "203.0.113.70")).status).toBe(201);
    srv.clock.advance(10 * MINUTE);
    const email = uniqueEmail();
    const refused = await signup(srv, email, PASSWORD, "203.0.113.70");
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(TOO_MANY);
    expect(retryAfter(refused)).toBe(50 * 60);
    expect((await login(srv, email, PASSWORD, "203.0.113.71")).status).toBe(401);
    expect((await signup(srv, email, PASSWORD, "203.0.113.72")).status).toBe(201);

    srv.clock.advance(50 * MINUTE);
    expect((await signup(srv, uniqueEmail(), PASSWORD, "203.0.113.70")).status).toBe(201);
  });
});

describe("limits are configurable", () => {
  it("honours LOGIN_IP_LIMIT / LOGIN_IP_WINDOW", async () => {
    await srv.destroy();
    srv = await startLimitedServer({ LOGIN_IP_LIMIT: "2", LOGIN_IP_WINDOW: "10s" });
    await login(srv, uniqueEmail(), "wrong-password", "203.0.113.80");
    await login(srv, uniqueEmail(), "wrong-password", "203.0.113.80");
    const res = await login(srv, uniqueEmail(), "wrong-password", "203.0.113.80");
    expect(res.status).toBe(429);
    expect(retryAfter(res)).toBe(10);
  });
});
