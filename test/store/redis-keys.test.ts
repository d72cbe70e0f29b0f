// What only the Redis engine promises: native TTLs (min(absolute, idle),
// extended by each touch), a per-user index, counters that expire with their
// window, nothing outside the prefix, and no session outliving its user.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatePublicId } from "../../src/auth/tokens.js";
import { createRedisStore } from "../../src/store/redis/index.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/server.js";
import { TEST_REDIS_URL, deleteRedisPrefix, freshRedisPrefix, servicesAvailable } from "../helpers/services.js";
import { newSession } from "./contract.js";

const available = await servicesAvailable(["redis"], "Redis key layout and TTLs");

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const IDLE = 7 * DAY;
const T0 = Date.UTC(2026, 0, 1);

describe.skipIf(!available)("redis engine specifics", () => {
  let store: Store & { redis: import("ioredis").Redis; prefix: string };
  let dir: { path: string; remove(): void };
  let prefix: string;
  beforeAll(async () => {
    dir = tempDir();
    prefix = freshRedisPrefix();
    store = await createRedisStore(createSqliteStore(join(dir.path, "s.db")), TEST_REDIS_URL, { prefix, idleTimeoutMs: IDLE });
  });
  afterAll(async () => {
    await store?.close();
    await deleteRedisPrefix(prefix);
    dir?.remove();
  });

  const session = newSession; // the contract's fixture, on the same T0
  const user = async (role: "user" | "admin" = "user") =>
    store.createUser({ id: generatePublicId(), email: `${generatePublicId()}@example.com`, passwordHash: "x", role, createdAt: T0 });

  it("gives a session key a TTL of min(absolute, idle) and each touch sets it again", async () => {
    const u = await user();
    const s = session(u.id);
    await store.createSession(s);
    const key = `${prefix}session:${s.tokenHash}`;
    const ttl = await store.redis.pttl(key);
    expect(ttl).toBeGreaterThan(IDLE - 60_000);
    expect(ttl).toBeLessThanOrEqual(IDLE);
    expect(await store.redis.pttl(`${prefix}user-sessions:${u.id}`)).toBeGreaterThan(ttl - 1000);

    // Close to the absolute end, the absolute lifetime is the shorter one.
    await store.touchSession(s.tokenHash, s.expiresAt - HOUR);
    const late = await store.redis.pttl(key);
    expect(late).toBeGreaterThan(HOUR - 60_000);
    expect(late).toBeLessThanOrEqual(HOUR);
    await store.touchSession(s.tokenHash, T0 + DAY);
    expect(await store.redis.pttl(key)).toBeGreaterThan(IDLE - 60_000);
  });

  it("keeps every key under the prefix and indexes sessions per user", async () => {
    const u = await user();
    const a = session(u.id);
    const b = session(u.id);
    await store.createSession(a);
    await store.createSession(b);
    expect((await store.redis.smembers(`${prefix}user-sessions:${u.id}`)).sort()).toEqual([a.tokenHash, b.tokenHash].sort());
    const keys = await store.redis.keys(`*${a.tokenHash}*`);
    expect(keys).toEqual([`${prefix}session:${a.tokenHash}`]);
  });

  it("reads a session written by the previous release (no authenticatedAt, no aal) as made at a password log-in", async () => {
    const u = await user();
    const s = session(u.id, { createdAt: T0 + 5, authenticatedAt: T0 + 9, aal: "aal2" });
    await store.createSession(s);
    await store.redis.hdel(`${prefix}session:${s.tokenHash}`, "authenticatedAt", "aal");
    expect((await store.findSession(s.tokenHash))?.session).toEqual({ ...s, authenticatedAt: T0 + 5, aal: "aal1" });
  });

  it("lists only sessions whose key still exists, and tidies the index", async () => {
    const u = await user();
    const a = session(u.id, { createdAt: T0 + 1 });
    const b = session(u.id);
    await store.createSession(a);
    await store.createSession(b);
    await store.redis.del(`${prefix}session:${b.tokenHash}`); // as if its TTL ran out
    expect((await store.listUserSessions(u.id)).map((x) => x.id)).toEqual([a.id]);
    expect(await store.redis.smembers(`${prefix}user-sessions:${u.id}`)).toEqual([a.tokenHash]);
  });

  it("drops a deleted user's sessions from Redis, and never serves a session whose user is gone", async () => {
    const keep = await user("admin"); // so the deletions below are not of the last admin
    void keep;
    const u = await user();
    const s = session(u.id);
    await store.createSession(s);
    expect(await store.deleteUser(u.id)).toBe("ok");
    expect(await store.redis.exists(`${prefix}session:${s.tokenHash}`)).toBe(0);
    expect(await store.redis.exists(`${prefix}user-sessions:${u.id}`)).toBe(0);

    // A login racing the deletion may still write a session: it must not authenticate.
    const late = session(u.id);
    await store.createSession(late);
    expect(await store.findSession(late.tokenHash)).toBeNull();
  });

  it("gives a counter the window as its TTL", async () => {
    const key = `k-${generatePublicId()}`;
    await store.hitCounter(key, 15 * 60_000, T0);
    await store.hitCounter(key, 15 * 60_000, T0 + 1);
    const ttl = await store.redis.pttl(`${prefix}counter:${key}`);
    expect(ttl).toBeGreaterThan(15 * 60_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
  });
});
