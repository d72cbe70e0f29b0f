// The SQLite engine caches validated session reads in process. These tests
// prove revocation stays immediate: a change made by another connection or
// another process on the same file, or by this server itself, is honoured on
// the very next request.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachSessionCache, type SessionCache } from "../src/store/sqlite/cache.js";
import { createSqliteStore } from "../src/store/sqlite/index.js";
import type { SessionWithUser } from "../src/store/store.js";
import { client, uniqueEmail } from "./helpers/http.js";
import { startTestServer, tempDir, type TestServer } from "./helpers/server.js";

let srv: TestServer;
let other: Database.Database; // a second connection on the server's file, like the CLI or a second instance
beforeAll(async () => {
  srv = await startTestServer();
  other = new Database(srv.dbPath);
  other.pragma("busy_timeout = 5000");
});
afterAll(async () => {
  other.close();
  await srv.destroy();
});

/** A signed-in client whose session has been read (and so cached) twice. */
async function signedIn() {
  const c = client(srv.url);
  const email = uniqueEmail("cache");
  const signup = await c.post("/signup", { email, password: "password123" });
  expect(signup.status).toBe(201);
  expect((await c.post("/login", { email, password: "password123" })).status).toBe(200);
  expect((await c.get("/me")).status).toBe(200);
  const me = await c.get("/me");
  expect(me.status).toBe(200);
  return { c, email, userId: me.body.user.id as string, cookie: c.cookie! };
}

describe("session cache: revocation stays immediate", () => {
  it("refuses a session deleted by another connection on the very next request", async () => {
    const { c, userId } = await signedIn();
    const deleted = other.prepare("DELETE FROM sessions WHERE user_id = ?").run(userId);
    expect(deleted.changes).toBe(1);
    expect((await c.get("/me")).status).toBe(401);
  });

  it("refuses a session deleted by another process (a CLI-like child) on the very next request", async () => {
    const { c, userId } = await signedIn();
    const script = `
      const Database = require("better-sqlite3");
      const db = new Database(process.argv[1]);
      db.pragma("busy_timeout = 5000");
      const n = db.prepare("DELETE FROM sessions WHERE user_id = ?").run(process.argv[2]).changes;
      db.close();
      process.stdout.write(String(n));`;
    const out = execFileSync(process.execPath, ["-e", script, srv.dbPath, userId], { cwd: process.cwd(), encoding: "utf8" });
    expect(out).toBe("1");
    expect((await c.get("/me")).status).toBe(401);
  });

  it("refuses a session the same server logged out, at once", async () => {
    const { c, cookie } = await signedIn();
    expect((await c.post("/logout")).status).toBe(200);
    expect((await c.get("/me", { cookie })).status).toBe(401);
  });

  it("refuses a session deleted through the same server's store, at once", async () => {
    const { c, userId } = await signedIn();
    expect(await srv.latchkey.store.deleteUserSessions(userId)).toBe(1);
    expect((await c.get("/me")).status).toBe(401);
  });

  it("sees a role change written by another connection on the next request", async () => {
    const { c, userId } = await signedIn();
    other.prepare("UPDATE users SET role = 'admin' WHERE id = ?").run(userId);
    const me = await c.get("/me");
    expect(me.status).toBe(200);
    expect(me.body.user.role).toBe("admin");
  });

  it("keeps its entries through bearer-token, reset-link and setting writes; a user write refreshes them", async () => {
    const { c, userId } = await signedIn();
    const store = srv.latchkey.store;
    const db = (store as unknown as { db: Database.Database }).db;
    // A change the cache cannot see (same connection, no store method): the cached row stays what /me answers...
    db.prepare("UPDATE users SET role = 'admin' WHERE id = ?").run(userId);
    expect((await c.get("/me")).body.user.role).toBe("user");
    // ...through every token-store write, none of which touches a session or a user...
    const now = Date.now();
    await store.tokens.createRefreshFamily({ familyId: `f-${userId}`, userId, tokenHash: `r-${userId}`, now, expiresAt: now + 60_000, familyExpiresAt: now + 60_000 });
    await store.tokens.createResetToken({ tokenHash: `p-${userId}`, userId, createdAt: now, expiresAt: now + 60_000 });
    await store.tokens.setSettingIfAbsent(`cache-test-${userId}`, "v");
    expect((await c.get("/me")).body.user.role).toBe("user");
    // ...and a write to the user through the store drops that user's entries.
    await store.setPasswordHash(userId, "x", now);
    expect((await c.get("/me")).body.user.role).toBe("admin");
  });

  it("serves a session again after an unrelated foreign commit (the cache refills)", async () => {
    const { c } = await signedIn();
    other.prepare("UPDATE users SET updated_at = updated_at WHERE 0").run();
    other.prepare("INSERT INTO counters (key, count, reset_at) VALUES (?, 1, 0)").run(uniqueEmail("k"));
    expect((await c.get("/me")).status).toBe(200);
    expect((await c.get("/me")).status).toBe(200);
  });
});

/** One session read through the cache: what a batch of one key answers. */
const readOne = (cache: SessionCache, tokenHash: string, load: (tokenHash: string) => SessionWithUser | null) =>
  cache.readBatch([tokenHash], load).get(tokenHash) ?? null;

describe("attachSessionCache on a real SQLite file", () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  const value = (role: "user" | "admin"): SessionWithUser => ({
    session: { id: "s", tokenHash: "h", userId: "u", createdAt: 1, lastSeenAt: 1, expiresAt: 2, userAgent: null, ip: null, authenticatedAt: 1, aal: "aal1", impersonatorId: null },
    user: { id: "u", email: "a@b.c", passwordHash: "x", role, createdAt: 1, updatedAt: 1, lastLoginAt: null, emailVerifiedAt: null, disabledUntil: null },
  });

  it("answers from memory until another connection commits, then reads again", () => {
    const path = join(dir.path, "cache.db");
    const store = createSqliteStore(path, { sessionCacheSize: 0 }); // creates the schema
    const db = new Database(path);
    const cache = attachSessionCache(db, 100);
    const foreign = new Database(path);
    let loads = 0;
    const load = () => (loads++, value("user"));

    readOne(cache, "h", load);
    readOne(cache, "h", load);
    expect(loads).toBe(1); // the second read was a hit

    foreign.prepare("INSERT INTO counters (key, count, reset_at) VALUES ('x', 1, 0)").run();
    readOne(cache, "h", load);
    expect(loads).toBe(2); // a foreign commit empties the cache before any hit

    db.prepare("DELETE FROM counters WHERE key = 'x'").run(); // a write on the cache's own connection...
    readOne(cache, "h", load);
    expect(loads).toBe(2); // ...is not seen: the store's write methods say their effect (forget/forgetUser/clear)

    const hit = readOne(cache, "h", load)!;
    expect(() => (hit.user.role = "admin")).toThrow(TypeError); // entries are frozen: a caller cannot change them...
    expect(() => (hit.session.lastSeenAt = 0)).toThrow(TypeError);
    expect(readOne(cache, "h", load)!.user.role).toBe("user"); // ...so the next read is what the database said
    expect(loads).toBe(2);

    cache.forget("h");
    readOne(cache, "h", load);
    expect(loads).toBe(3);
    expect(readOne(cache, "missing", () => null)).toBeNull();
    expect(cache.size).toBe(1); // misses are not cached

    foreign.close();
    db.close();
    void store.close();
  });

  it("readBatch looks at foreign commits once, before any row of the batch", () => {
    const path = join(dir.path, "batch.db");
    const store = createSqliteStore(path, { sessionCacheSize: 0 });
    const db = new Database(path);
    const cache = attachSessionCache(db, 100);
    const foreign = new Database(path);
    const loaded: string[] = [];
    const load = (h: string) => (loaded.push(h), h === "missing" ? null : value("user"));

    expect([...cache.readBatch(["a", "b", "missing"], load).keys()]).toEqual(["a", "b"]);
    expect(loaded).toEqual(["a", "b", "missing"]);
    loaded.length = 0;
    expect(cache.readBatch(["a", "b"], load).size).toBe(2);
    expect(loaded).toEqual([]); // both hits

    foreign.prepare("INSERT INTO counters (key, count, reset_at) VALUES ('y', 1, 0)").run();
    cache.readBatch(["a", "b"], load);
    expect(loaded).toEqual(["a", "b"]); // a foreign commit: every row of the batch is read again

    foreign.close();
    db.close();
    void store.close();
  });

  it("the store answers a turn's lookups together, after all of them were asked: a foreign delete between two asks is seen", async () => {
    const path = join(dir.path, "turn.db");
    const store = createSqliteStore(path);
    const foreign = new Database(path);
    await store.createUser({ id: "u1", email: "turn@example.com", passwordHash: "x", role: "user", createdAt: 1 });
    const session = (tokenHash: string) => ({
      id: `id-${tokenHash}`, tokenHash, userId: "u1", createdAt: 1, lastSeenAt: 1, expiresAt: 2, userAgent: null, ip: null,
      authenticatedAt: 1, aal: "aal1" as const, impersonatorId: null,
    });
    await store.createSession(session("first"));
    await store.createSession(session("second"));
    expect(await store.findSession("second")).not.toBeNull(); // cached now

    const first = store.findSession("first"); // asked, not yet answered
    foreign.prepare("DELETE FROM sessions WHERE token_hash = 'second'").run(); // the CLI revokes, in between
    const second = store.findSession("second"); // asked after the revocation
    expect((await first)?.session.id).toBe("id-first");
    expect(await second).toBeNull();

    foreign.close();
    await store.close();
  });

  it("keeps at most maxEntries, and a size of 0 turns it off", () => {
    const db = new Database(join(dir.path, "size.db"));
    const cache = attachSessionCache(db, 2);
    for (const k of ["a", "b", "c"]) readOne(cache, k, () => value("user"));
    expect(cache.size).toBe(2);
    let loads = 0;
    readOne(cache, "a", () => (loads++, value("user"))); // "a" was evicted first
    expect(loads).toBe(1);

    const off = attachSessionCache(new Database(join(dir.path, "off.db")), 0);
    readOne(off, "a", () => (loads++, value("user")));
    readOne(off, "a", () => (loads++, value("user")));
    expect(loads).toBe(3);
    db.close();
  });
});
