// The webhook outbox contract (WebhookOutbox, src/store/event-store.ts) on
// every engine: a real SQLite file, a real PostgreSQL schema, and the
// PostgreSQL+Redis composite. Events are inserted with SQL, marked for
// webhooks, as the event store does when webhooks are on.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { createRedisStore } from "../../src/store/redis/index.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { InvalidCursorError } from "../../src/store/outbox-cursor.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/server.js";
import {
  TEST_REDIS_URL,
  deleteRedisPrefix,
  dropSchema,
  freshRedisPrefix,
  freshSchemaName,
  schemaUrl,
  servicesAvailable,
} from "../helpers/services.js";

interface Target {
  store: Store;
  /** Inserts an event marked for webhooks; returns its seq. */
  insertEvent(e: { id: string; userId: string | null; type?: string; at?: number; pending?: boolean }): Promise<number>;
  /** Another store on the same database, as a second instance opens it. */
  second?(): Promise<Store>;
  cleanup(): Promise<void>;
}

const A = "http://127.0.0.1:9/a";
const B = "https://hooks.example.com/b?token=x";
const T0 = Date.UTC(2026, 0, 1);
const LEASE = 10_000;
const evtId = () => `evt_${randomBytes(8).toString("hex")}`;

function outboxContract(name: string, open: () => Promise<Target>) {
  describe(`webhook outbox: ${name}`, () => {
    let t: Target;
    beforeEach(async () => {
      t = await open();
    });
    afterEach(async () => {
      await t.cleanup();
    });
    const seqs = (ds: { event: { seq: number } }[]) => ds.map((d) => d.event.seq);

    it("fans each marked event out once per endpoint, oldest first, and unmarks it", async () => {
      const s1 = await t.insertEvent({ id: evtId(), userId: "u1", type: "signup" });
      const s2 = await t.insertEvent({ id: evtId(), userId: "u2" });
      await t.insertEvent({ id: evtId(), userId: "u3", pending: false }); // not for webhooks
      expect(await t.store.webhooks.backlog()).toEqual({ pending: 2, failed: 0 });
      expect(await t.store.webhooks.fanOut([A, B], T0, 1)).toBe(1); // bounded batch: the oldest
      expect(await t.store.webhooks.fanOut([A, B], T0, 100)).toBe(1);
      expect(await t.store.webhooks.fanOut([A, B], T0, 100)).toBe(0);
      expect(await t.store.webhooks.backlog()).toEqual({ pending: 4, failed: 0 });
      const claimed = await t.store.webhooks.claim(T0, LEASE, 100);
      expect(claimed.map((d) => [d.endpoint, d.event.seq]).sort()).toEqual(
        [[A, s1], [A, s2], [B, s1], [B, s2]].sort(),
      );
      const first = claimed.find((d) => d.event.seq === s1)!;
      expect(first.event).toMatchObject({ type: "signup", userId: "u1", at: T0, details: { n: 1 } });
      expect(first).toMatchObject({ attempts: 0, createdAt: T0, nextAttemptAt: T0, lastError: null });
    });

    it("with no endpoint, leaves the events marked instead of dropping them", async () => {
      await t.insertEvent({ id: evtId(), userId: "u1" });
      expect(await t.store.webhooks.fanOut([], T0, 100)).toBe(0);
      expect(await t.store.webhooks.fanOut([A], T0, 100)).toBe(1);
    });

    it("hands out a user's events one at a time, in order, while other users' go ahead", async () => {
      const u1a = await t.insertEvent({ id: evtId(), userId: "u1" });
      const u1b = await t.insertEvent({ id: evtId(), userId: "u1" });
      const u2a = await t.insertEvent({ id: evtId(), userId: "u2" });
      const none1 = await t.insertEvent({ id: evtId(), userId: null });
      const none2 = await t.insertEvent({ id: evtId(), userId: null });
      await t.store.webhooks.fanOut([A], T0, 100);
      expect(seqs(await t.store.webhooks.claim(T0, LEASE, 100))).toEqual([u1a, u2a, none1]);
      // Leased: nothing more, not even u1's second (its first is still pending).
      expect(await t.store.webhooks.claim(T0 + 1, LEASE, 100)).toEqual([]);
      await t.store.webhooks.delivered(A, u1a);
      await t.store.webhooks.delivered(A, none1);
      expect(seqs(await t.store.webhooks.claim(T0 + 2, LEASE, 100))).toEqual([u1b, none2]);
    });

    it("a lease that runs out makes the delivery claimable again (a crashed instance's work)", async () => {
      const s = await t.insertEvent({ id: evtId(), userId: "u1" });
      await t.store.webhooks.fanOut([A], T0, 100);
      expect(seqs(await t.store.webhooks.claim(T0, LEASE, 10))).toEqual([s]);
      expect(await t.store.webhooks.claim(T0 + LEASE - 1, LEASE, 10)).toEqual([]);
      expect(seqs(await t.store.webhooks.claim(T0 + LEASE, LEASE, 10))).toEqual([s]);
    });

    it("retry: releases the lease, counts the attempt, waits until nextAttemptAt, keeps the user's next event waiting", async () => {
      const s1 = await t.insertEvent({ id: evtId(), userId: "u1" });
      const s2 = await t.insertEvent({ id: evtId(), userId: "u1" });
      await t.store.webhooks.fanOut([A], T0, 100);
      await t.store.webhooks.claim(T0, LEASE, 10);
      await t.store.webhooks.retry(A, s1, T0 + 5000, "HTTP 500");
      expect(await t.store.webhooks.claim(T0 + 4999, LEASE, 10)).toEqual([]);
      const [again] = await t.store.webhooks.claim(T0 + 5000, LEASE, 10);
      expect(again).toMatchObject({ attempts: 1, lastError: "HTTP 500", nextAttemptAt: T0 + 5000, createdAt: T0 });
      expect(again!.event.seq).toBe(s1);
      await t.store.webhooks.delivered(A, s1);
      expect(seqs(await t.store.webhooks.claim(T0 + 5001, LEASE, 10))).toEqual([s2]);
    });

    it("fail: kept as failed, listed, no longer blocks the user; redeliver puts it back in front", async () => {
      const id1 = evtId();
      const s1 = await t.insertEvent({ id: id1, userId: "u1" });
      const s2 = await t.insertEvent({ id: evtId(), userId: "u1" });
      await t.store.webhooks.fanOut([A], T0, 100);
      await t.store.webhooks.claim(T0, LEASE, 10);
      await t.store.webhooks.fail(A, s1, "timeout after 10000 ms");
      expect(await t.store.webhooks.backlog()).toEqual({ pending: 1, failed: 1 });
      const page = await t.store.webhooks.listFailed({ limit: 10 });
      expect(page.nextCursor).toBeNull();
      expect(page.deliveries).toHaveLength(1);
      expect(page.deliveries[0]).toMatchObject({ endpoint: A, attempts: 1, lastError: "timeout after 10000 ms" });
      expect(page.deliveries[0]!.event.id).toBe(id1);
      expect(seqs(await t.store.webhooks.claim(T0 + 1, LEASE, 10))).toEqual([s2]);
      await t.store.webhooks.retry(A, s2, T0 + 1, "HTTP 503"); // release s2

      expect(await t.store.webhooks.redeliver({ eventId: "evt_unknown" }, T0 + 100)).toBe(0);
      expect(await t.store.webhooks.redeliver({ eventId: id1 }, T0 + 100)).toBe(1);
      expect(await t.store.webhooks.redeliver({ eventId: id1 }, T0 + 100)).toBe(0); // no longer failed
      expect(await t.store.webhooks.backlog()).toEqual({ pending: 2, failed: 0 });
      // Back to pending, from now, attempts reset; and in front of the user's later event again.
      const [back] = await t.store.webhooks.claim(T0 + 100, LEASE, 10);
      expect(back).toMatchObject({ attempts: 0, createdAt: T0 + 100, lastError: null });
      expect(back!.event.seq).toBe(s1);
      expect(await t.store.webhooks.claim(T0 + 101, LEASE, 10)).toEqual([]);
    });

    it("listFailed pages in (event, endpoint) order with a cursor; redeliver all", async () => {
      const ss = [];
      for (let i = 0; i < 3; i++) ss.push(await t.insertEvent({ id: evtId(), userId: `u${i}` }));
      await t.store.webhooks.fanOut([A, B], T0, 100);
      for (const d of await t.store.webhooks.claim(T0, LEASE, 100)) await t.store.webhooks.fail(d.endpoint, d.event.seq, "HTTP 410");
      const seen: [number, string][] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await t.store.webhooks.listFailed({ limit: 4, cursor });
        seen.push(...page.deliveries.map((d): [number, string] => [d.event.seq, d.endpoint]));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(2);
      expect(seen).toEqual(ss.flatMap((s) => [[s, A], [s, B]]));
      await expect(t.store.webhooks.listFailed({ limit: 4, cursor: "nonsense" })).rejects.toBeInstanceOf(InvalidCursorError);
      expect(await t.store.webhooks.redeliver("all", T0 + 1)).toBe(6);
      expect(await t.store.webhooks.backlog()).toEqual({ pending: 6, failed: 0 });
    });

    it("delivered deletes the row; a retry or fail of a delivered row changes nothing", async () => {
      const s = await t.insertEvent({ id: evtId(), userId: "u1" });
      await t.store.webhooks.fanOut([A], T0, 100);
      await t.store.webhooks.claim(T0, LEASE, 10);
      await t.store.webhooks.delivered(A, s);
      await t.store.webhooks.retry(A, s, T0, "late");
      await t.store.webhooks.fail(A, s, "late");
      expect(await t.store.webhooks.backlog()).toEqual({ pending: 0, failed: 0 });
    });

    it("two instances claiming at once never get the same delivery, nor a user's second event", async () => {
      if (!t.second) return;
      const other = await t.second();
      try {
        const users = 60;
        const firsts = new Set<number>();
        for (let u = 0; u < users; u++) firsts.add(await t.insertEvent({ id: evtId(), userId: `u${u}` }));
        for (let u = 0; u < users; u++) await t.insertEvent({ id: evtId(), userId: `u${u}` }); // each user's second
        // Both fan out at once: every event enters the outbox exactly once per endpoint.
        const fanned = await Promise.all([t.store.webhooks.fanOut([A, B], T0, 1000), other.webhooks.fanOut([A, B], T0, 1000)]);
        let total = fanned[0] + fanned[1];
        for (let n; (n = await t.store.webhooks.fanOut([A, B], T0, 1000)) > 0; ) total += n;
        expect(total).toBe(2 * users);
        // Eight concurrent claims over two stores (two pools): disjoint, and only each user's first event.
        const rounds = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? other : t.store).webhooks.claim(T0, LEASE, 25)),
        );
        const keys = rounds.flat().map((d) => `${d.endpoint} ${d.event.seq}`);
        expect(new Set(keys).size).toBe(keys.length);
        expect(keys.length).toBe(2 * users); // every first event, on both endpoints
        for (const d of rounds.flat()) expect(firsts.has(d.event.seq)).toBe(true);
      } finally {
        await other.close();
      }
    });
  });
}

outboxContract("sqlite", async () => {
  const dir = tempDir("latchkey-outbox-");
  const path = join(dir.path, "store.db");
  const store = createSqliteStore(path);
  return {
    store,
    async insertEvent({ id, userId, type = "test", at = T0, pending = true }) {
      const r = store.db
        .prepare(`INSERT INTO events (id, at, type, user_id, details, webhook_pending) VALUES (?, ?, ?, ?, '{"n":1}', ?)`)
        .run(id, at, type, userId, pending ? 1 : 0);
      return Number(r.lastInsertRowid);
    },
    // A second connection to the file, as a second process (the CLI) has: the write lock keeps claims apart.
    second: async () => createSqliteStore(path),
    async cleanup() {
      await store.close();
      dir.remove();
    },
  };
});

const pgAvailable = await servicesAvailable(["postgres"], "webhook outbox on PostgreSQL");
const redisAvailable = pgAvailable && (await servicesAvailable(["redis"], "webhook outbox on PostgreSQL+Redis"));

async function postgresTarget(withRedis: boolean): Promise<Target> {
  const schema = freshSchemaName();
  const sql = await createPostgresStore(schemaUrl(schema));
  const prefix = freshRedisPrefix();
  const store = withRedis ? await createRedisStore(sql, TEST_REDIS_URL, { prefix }) : sql;
  return {
    store,
    async insertEvent({ id, userId, type = "test", at = T0, pending = true }) {
      const { rows } = await sql.pool.query<{ seq: string }>(
        `INSERT INTO events (id, at, type, user_id, details, webhook_pending) VALUES ($1, $2, $3, $4, '{"n":1}', $5) RETURNING seq`,
        [id, at, type, userId, pending],
      );
      return Number(rows[0]!.seq);
    },
    second: async () => createPostgresStore(schemaUrl(schema)),
    async cleanup() {
      await store.close();
      await dropSchema(schema);
      if (withRedis) await deleteRedisPrefix(prefix);
    },
  };
}

describe.skipIf(!pgAvailable)("postgres", () => outboxContract("postgres", () => postgresTarget(false)));
describe.skipIf(!redisAvailable)("postgres+redis", () => outboxContract("postgres+redis", () => postgresTarget(true)));
