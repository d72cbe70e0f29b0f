// Applying the versioned schema (migrations.ts) under an advisory lock, and
// telling which versions a database still lacks.
import pg from "pg";
import { createPostgresPool, quoteIdent, unavailable, type PostgresOptions } from "./connection.js";
import { postgresMigrations } from "./migrations.js";

/**
 * Applies pending migrations, one at a time, under a session advisory lock so
 * that instances starting together take turns. Returns the versions applied.
 */
export async function migratePostgres(target: string | pg.Pool, options: PostgresOptions = {}): Promise<number[]> {
  const own = typeof target === "string" ? createPostgresPool(target, options) : undefined;
  const pool = own?.pool ?? (target as pg.Pool);
  const schema = options.schema ?? own?.schema;
  // A connection of its own without the request timeouts: waiting for another instance's
  // migration, or building an index on a big table, may rightly take longer than a request.
  const { statement_timeout: _s, query_timeout: _q, idle_in_transaction_session_timeout: _i, ...settings } =
    (pool as unknown as { options: pg.ClientConfig }).options;
  const client = new pg.Client(settings);
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (err) {
    if (own) await own.pool.end();
    throw unavailable(err);
  }
  const lockKey = `latchkey.migrate:${schema ?? "default"}`;
  const ran: number[] = [];
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [lockKey]);
    try {
      if (schema) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(`SET search_path TO ${quoteIdent(schema)}`);
      }
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
      const applied = new Set(rows.map((r) => r.version));
      for (const m of postgresMigrations) {
        if (applied.has(m.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
            m.version,
            m.name,
            Date.now(),
          ]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw err;
        }
        ran.push(m.version);
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext($1))", [lockKey]).catch(() => {});
    }
  } catch (err) {
    throw unavailable(err);
  } finally {
    await client.end().catch(() => {});
    if (own) await own.pool.end();
  }
  return ran;
}

/** Versions this build knows that the database has not applied yet (it may also be ahead: that is fine). */
export async function pendingPostgresMigrations(pool: pg.Pool): Promise<number[]> {
  try {
    const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations') AS t");
    if (!exists.rows[0]?.t) return postgresMigrations.map((m) => m.version);
    const { rows } = await pool.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((r) => r.version));
    return postgresMigrations.filter((m) => !applied.has(m.version)).map((m) => m.version);
  } catch (err) {
    throw unavailable(err);
  }
}

