// PostgreSQL session reads go out in batches (src/store/batch.ts): many
// concurrent lookups share few queries, and a revocation committed before a
// lookup is asked for is never answered from an older batch.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { StoreUnavailableError } from "../../src/store/store.js";
import { TEST_DATABASE_URL, dropSchema, freshSchemaName, schemaUrl, servicesAvailable, startTcpProxy } from "../helpers/services.js";
import { newSession } from "./contract.js";

const available = await servicesAvailable(["postgres"], "PostgreSQL batched session reads");

describe.skipIf(!available)("postgres batched session reads", () => {
  const schema = freshSchemaName();
  let store: Awaited<ReturnType<typeof createPostgresStore>>;
  let userId: string;
  beforeAll(async () => {
    store = await createPostgresStore(schemaUrl(schema));
    userId = randomUUID();
    await store.createUser({ id: userId, email: `${userId}@example.com`, passwordHash: "x", role: "user", createdAt: 0 });
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(schema);
  });

  /** Queries the pool runs while `work` does (each pool.query checks a client out once). */
  async function countQueries<T>(work: () => Promise<T>): Promise<{ result: T; queries: number }> {
    let queries = 0;
    const count = () => queries++;
    store.pool.on("acquire", count);
    try {
      return { result: await work(), queries };
    } finally {
      store.pool.off("acquire", count);
    }
  }

  it("answers 200 concurrent lookups, found and missing, each correctly, in far fewer queries", async () => {
    const sessions = Array.from({ length: 100 }, () => newSession(userId));
    for (const s of sessions) await store.createSession(s);
    const missing = Array.from({ length: 100 }, () => newSession(userId).tokenHash);
    const asked = [...sessions.map((s) => s.tokenHash), ...missing].sort(() => Math.random() - 0.5);

    const { result, queries } = await countQueries(() => Promise.all(asked.map((h) => store.findSession(h))));
    result.forEach((found, i) => {
      const s = sessions.find((x) => x.tokenHash === asked[i]);
      if (s) expect(found).toEqual({ session: s, user: expect.objectContaining({ id: userId }) });
      else expect(found).toBeNull();
    });
    expect(queries).toBeLessThanOrEqual(2);
  });

  it("batches user reads by id the same way", async () => {
    const ids = Array.from({ length: 50 }, () => randomUUID());
    for (const id of ids.slice(0, 25)) await store.createUser({ id, email: `${id}@example.com`, passwordHash: "x", role: "user", createdAt: 0 });
    const { result, queries } = await countQueries(() => Promise.all(ids.map((id) => store.findUserById(id))));
    expect(result.map((u) => u?.id ?? null)).toEqual(ids.map((id, i) => (i < 25 ? id : null)));
    expect(queries).toBeLessThanOrEqual(2);
  });

  it("refuses a session deleted through another connection to any lookup asked for after the delete", async () => {
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await other.connect();
    try {
      for (let round = 0; round < 20; round++) {
        const s = newSession(userId);
        await store.createSession(s);
        // Lookups keep batches in flight throughout; the delete commits among them.
        const before = Array.from({ length: 10 }, () => store.findSession(s.tokenHash));
        await other.query("DELETE FROM sessions WHERE token_hash = $1", [s.tokenHash]);
        const after = Array.from({ length: 10 }, () => store.findSession(s.tokenHash));
        await Promise.all(before);
        expect(await Promise.all(after)).toEqual(Array(10).fill(null));
      }
    } finally {
      await other.end();
    }
  });

  it("rejects every waiting lookup with StoreUnavailableError when PostgreSQL cannot be reached", async () => {
    const url = new URL(schemaUrl(schema));
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.port = String(proxy.port);
    const cut = await createPostgresStore(url.toString(), { connectTimeoutMs: 1000, queryTimeoutMs: 1000 });
    try {
      const s = newSession(userId);
      await cut.createSession(s);
      proxy.setMode("refuse");
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => cut.findSession(s.tokenHash)));
      for (const r of results) {
        expect(r.status).toBe("rejected");
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
      }
      proxy.setMode("up");
      expect((await cut.findSession(s.tokenHash))?.session.id).toBe(s.id);
    } finally {
      await cut.close();
      await proxy.close();
    }
  });
});
