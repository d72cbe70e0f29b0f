// The PostgreSQL token store's transactions are retried whole when
// PostgreSQL aborts them as a deadlock victim (40P01). With the lock order
// fixed no token path should deadlock any more; this provokes a real
// deadlock on purpose to prove the last resort works.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type pg from "pg";
import { createPostgresPool } from "../../src/store/postgres/index.js";
import { connectionOf, isRetryableTransactionError } from "../../src/store/postgres/connection.js";
import { dropSchema, freshSchemaName, schemaUrl, servicesAvailable } from "../helpers/services.js";

const up = await servicesAvailable(["postgres"], "PostgreSQL transaction retry");

describe.skipIf(!up)("PostgreSQL token-store transactions", () => {
  const schema = freshSchemaName();
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = createPostgresPool(schemaUrl(schema)).pool;
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await pool.query("CREATE TABLE rows_to_lock (id int PRIMARY KEY)");
    await pool.query("INSERT INTO rows_to_lock VALUES (1), (2)");
  });
  afterAll(async () => {
    await pool?.end();
    await dropSchema(schema);
  });

  it("retry the deadlock victim, so both sides of a deadlock succeed", async () => {
    const barrier = () => {
      let open!: () => void;
      return { wait: new Promise<void>((resolve) => (open = resolve)), open: () => open() };
    };
    const first = barrier();
    const second = barrier();
    const attempts = [0, 0];
    const lockBoth = (i: number, a: number, b: number, mine: ReturnType<typeof barrier>, theirs: ReturnType<typeof barrier>) =>
      connectionOf(pool).transaction(async (db) => {
        attempts[i]!++;
        await db.query("SELECT id FROM rows_to_lock WHERE id = $1 FOR UPDATE", [a]);
        mine.open();
        await theirs.wait; // each holds one row and wants the other's: a deadlock PostgreSQL must break
        await db.query("SELECT id FROM rows_to_lock WHERE id = $1 FOR UPDATE", [b]);
        return i;
      });
    expect(await Promise.all([lockBoth(0, 1, 2, first, second), lockBoth(1, 2, 1, second, first)])).toEqual([0, 1]);
    expect(attempts[0]! + attempts[1]!).toBe(3); // the victim ran twice
  });

  it("do not retry other errors", async () => {
    let attempts = 0;
    const failing = connectionOf(pool).transaction(async (db) => {
      attempts++;
      await db.query("INSERT INTO rows_to_lock VALUES (1)"); // duplicate key: 23505
    });
    await expect(failing).rejects.toMatchObject({ code: "23505" });
    expect(attempts).toBe(1);
    expect(isRetryableTransactionError({ code: "40001" })).toBe(true);
    expect(isRetryableTransactionError({ code: "23505" })).toBe(false);
  });
});
