// Idle timeout, absolute lifetime and the touch interval, with an injected clock.
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let srv: TestServer;
let db: Database.Database;
beforeAll(async () => {
  srv = await startTestServer(); // defaults: idle 7 d, absolute 30 d, touch 1 h
  db = new Database(srv.dbPath, { readonly: true });
});
afterAll(async () => {
  db.close();
  await srv.destroy();
});

async function signedIn() {
  const c = client(srv.url);
  const email = uniqueEmail();
  await c.post("/signup", { email, password: "password123" });
  const login = await c.post("/login", { email, password: "password123" });
  const userId: string = login.body.user.id;
  const lastSeen = () => (db.prepare("SELECT last_seen_at FROM sessions WHERE user_id = ?").pluck().get(userId) as number | undefined);
  return { c, userId, lastSeen };
}

describe("sliding renewal", () => {
  it("writes last_seen_at at most once per touch interval", async () => {
    const { c, lastSeen } = await signedIn();
    const created = lastSeen();
    srv.clock.advance(30 * 60_000);
    expect((await c.get("/me")).status).toBe(200);
    expect(lastSeen()).toBe(created); // within the interval: a read, no write
    srv.clock.advance(31 * 60_000);
    expect((await c.get("/me")).status).toBe(200);
    expect(lastSeen()).toBe(srv.clock()); // past it: one touch
  });

  it("keeps an active session alive past the idle timeout", async () => {
    const { c } = await signedIn();
    for (let i = 0; i < 4; i++) {
      srv.clock.advance(6 * DAY);
      expect((await c.get("/me")).status).toBe(200);
    }
  });
});

describe("expiry", () => {
  it("ends a session idle for longer than the idle timeout, and deletes it", async () => {
    const { c, lastSeen } = await signedIn();
    srv.clock.advance(7 * DAY - 1000);
    expect((await c.get("/me")).status).toBe(200);
    srv.clock.advance(7 * DAY);
    const res = await c.get("/me");
    expect(res.status).toBe(401);
    expect(res.setCookie).toMatch(/Max-Age=0$/);
    expect(lastSeen()).toBeUndefined();
  });

  it("ends a session at its absolute lifetime however active it is", async () => {
    const { c } = await signedIn();
    for (let day = 0; day < 29; day++) {
      srv.clock.advance(DAY);
      expect((await c.get("/me")).status).toBe(200);
    }
    srv.clock.advance(DAY);
    expect((await c.get("/me")).status).toBe(401);
  });

  it("prunes expired sessions in the background sweep, and keeps live ones", async () => {
    const stale = await signedIn();
    srv.clock.advance(8 * DAY);
    const live = await signedIn();
    await srv.latchkey.pruneNow();
    expect(stale.lastSeen()).toBeUndefined();
    expect(live.lastSeen()).toBe(srv.clock());
  });
});

describe("durability", () => {
  it("keeps users and live sessions across a restart", async () => {
    const { c } = await signedIn();
    const before = await c.get("/me");
    srv = await srv.restart();
    db.close();
    db = new Database(srv.dbPath, { readonly: true });
    const c2 = client(srv.url);
    c2.cookie = c.cookie;
    const after = await c2.get("/me");
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
  });
});
