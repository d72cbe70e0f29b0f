// Runs the TokenStore contract on PostgreSQL in a schema of its own, created
// from the exported DDL and dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { postgresTokenMigration } from "../../src/store/migrations/postgres-tokens.js";
import { createPostgresTokenStore } from "../../src/store/token-store-postgres.js";
import { tokenStoreContract } from "./token-store-contract.js";
import { maskUrl } from "../../src/config.js";

const URL = process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const up = await reachable();
if (!up && process.env.REQUIRE_SERVICES === "1") {
  describe("TokenStore contract: postgres", () => {
    it("needs PostgreSQL (REQUIRE_SERVICES=1)", () => {
      throw new Error(`PostgreSQL is not reachable at ${maskUrl(URL)}`);
    });
  });
} else if (!up) {
  console.warn(`!!! SKIPPING TokenStore contract on PostgreSQL: not reachable at ${maskUrl(URL)}`);
  describe.skip("TokenStore contract: postgres (unreachable)", () => {
    it("skipped", () => {});
  });
} else {
  tokenStoreContract("postgres", async () => {
    const schema = `latchkey_tokens_${randomBytes(6).toString("hex")}`;
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path TO ${schema}`);
    await admin.query(postgresTokenMigration.sql);
    const pool = () => new pg.Pool({ connectionString: URL, max: 4, options: `-c search_path=${schema}` });
    const a = pool();
    const b = pool();
    return {
      tokens: createPostgresTokenStore(a),
      other: createPostgresTokenStore(b),
      async createUser() {}, // the token tables do not reference users on PostgreSQL
      async close() {
        await a.end();
        await b.end();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      },
    };
  });
}
