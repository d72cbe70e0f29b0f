// openStore() picks the engine the configuration names; PostgreSQL migrations are
// safe when instances start together and can be left to `latchkey migrate`.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { openStore } from "../../src/store/open.js";
import { createPostgresPool, createPostgresStore, migratePostgres, pendingPostgresMigrations } from "../../src/store/postgres/index.js";
import { postgresMigrations } from "../../src/store/postgres/migrations.js";
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

const latest = postgresMigrations.map((m) => m.version);

describe("configuration", () => {
  it("reads REDIS_URL, REDIS_PREFIX, AUTO_MIGRATE, PG_POOL_SIZE and the store timeouts", () => {
    const config = loadConfig({
      REDIS_URL: "redis://127.0.0.1:6379/2",
      REDIS_PREFIX: "app1:",
      AUTO_MIGRATE: "false",
      PG_POOL_SIZE: "25",
      STORE_CONNECT_TIMEOUT: "2s",
      STORE_QUERY_TIMEOUT: "750ms",
    });
    expect(config.redis).toEqual({ url: "redis://127.0.0.1:6379/2", prefix: "app1:" });
    expect(config.store).toEqual({ autoMigrate: false, poolSize: 25, connectTimeoutMs: 2000, queryTimeoutMs: 750 });
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({}).store).toEqual({ autoMigrate: true, poolSize: 10, connectTimeoutMs: 3000, queryTimeoutMs: 5000 });
  });

  it("refuses bad values with a clear message, without echoing a password", () => {
    expect(() => loadConfig({ REDIS_URL: "http://user:secret@host" })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: "http://user:secret@host" })).toThrow(/REDIS_URL must start with redis:\/\/ or rediss:\/\/, got "http:\/\/\*\*\*@host"/);
    expect(() => loadConfig({ PG_POOL_SIZE: "0" })).toThrow(/PG_POOL_SIZE must be a whole number between 1 and 1000/);
    expect(() => loadConfig({ AUTO_MIGRATE: "maybe" })).toThrow(/AUTO_MIGRATE must be true or false/);
  });

  it("opens SQLite by default", async () => {
    const dir = tempDir();
    const store = await openStore(loadConfig({ DATABASE_URL: `sqlite:${join(dir.path, "x.db")}` }));
    expect(store.engine).toBe("sqlite");
    await store.close();
    dir.remove();
  });
});

const pgUp = await servicesAvailable(["postgres"], "PostgreSQL engine selection and migrations");
const redisUp = await servicesAvailable(["redis"], "Redis engine selection");

describe.skipIf(!pgUp)("PostgreSQL", () => {
  it("opens PostgreSQL for a postgres:// URL, in the URL's schema", async () => {
    const schema = freshSchemaName();
    try {
      const store = await openStore(loadConfig({ DATABASE_URL: schemaUrl(schema) }));
      expect(store.engine).toBe("postgres");
      expect((store as unknown as { schema: string }).schema).toBe(schema);
      await store.ping();
      await store.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it("applies each migration once when several instances migrate at the same moment", async () => {
    const schema = freshSchemaName();
    try {
      const runs = await Promise.all(Array.from({ length: 4 }, () => migratePostgres(schemaUrl(schema))));
      expect(runs.flat().sort()).toEqual(latest); // exactly one runner applied each version
      expect(await migratePostgres(schemaUrl(schema))).toEqual([]);
      const { pool } = createPostgresPool(schemaUrl(schema));
      try {
        expect(await pendingPostgresMigrations(pool)).toEqual([]);
        const { rows } = await pool.query("SELECT version FROM schema_migrations ORDER BY version");
        expect(rows.map((r) => r.version)).toEqual(latest);
      } finally {
        await pool.end();
      }
    } finally {
      await dropSchema(schema);
    }
  });

  it("waits for another instance's migration longer than the request timeouts allow", async () => {
    const schema = freshSchemaName();
    const { pool: holder } = createPostgresPool(schemaUrl(schema));
    const lock = await holder.connect();
    try {
      // Another instance is "migrating" this schema for a second and a half.
      await lock.query("SELECT pg_advisory_lock(hashtext($1))", [`latchkey.migrate:${schema}`]);
      const release = setTimeout(() => void lock.query("SELECT pg_advisory_unlock(hashtext($1))", [`latchkey.migrate:${schema}`]), 1500);
      const store = await createPostgresStore(schemaUrl(schema), { queryTimeoutMs: 300, connectTimeoutMs: 1000 });
      clearTimeout(release);
      await store.ping();
      await store.close();
    } finally {
      lock.release();
      await holder.end();
      await dropSchema(schema);
    }
  });

  it("with AUTO_MIGRATE=false refuses an unmigrated schema, and runs once it is migrated", async () => {
    const schema = freshSchemaName();
    try {
      const config = loadConfig({ DATABASE_URL: schemaUrl(schema), AUTO_MIGRATE: "false" });
      await expect(openStore(config)).rejects.toThrow(`lacks migration(s) ${latest.join(", ")}: run \`latchkey migrate\` or set AUTO_MIGRATE=true`);
      await migratePostgres(schemaUrl(schema));
      const store = await openStore(config);
      await store.ping();
      await store.close();
    } finally {
      await dropSchema(schema);
    }
  });

  it("refuses a schema name that is not a plain identifier", async () => {
    await expect(createPostgresStore(schemaUrl("x; DROP TABLE users"))).rejects.toThrow(ConfigError);
  });
});

describe.skipIf(!pgUp || !redisUp)("PostgreSQL + Redis", () => {
  it("wraps the SQL store with Redis when REDIS_URL is set", async () => {
    const schema = freshSchemaName();
    const prefix = freshRedisPrefix();
    try {
      const store = await openStore(loadConfig({ DATABASE_URL: schemaUrl(schema), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix }));
      expect(store.engine).toBe("postgres+redis");
      await store.ping();
      await store.close();
    } finally {
      await dropSchema(schema);
      await deleteRedisPrefix(prefix);
    }
  });
});
