import type { Config } from "../config.js";
// Through engines.ts: pg and ioredis load only when DATABASE_URL / REDIS_URL name them.
import { createPostgresStore, createRedisStore, createSqliteStore } from "../engines.js";
import type { Store } from "./store.js";

export type OpenStoreConfig = Pick<Config, "database"> &
  Partial<Pick<Config, "store" | "redis" | "webhooks">> & { session?: Partial<Pick<Config["session"], "idleTimeoutMs" | "cacheSize">> };

/**
 * The store the configuration names, migrated and ready: SQLite or PostgreSQL
 * (DATABASE_URL) for users, and for sessions and counters too unless REDIS_URL
 * puts those in Redis.
 */
export async function openStore(config: OpenStoreConfig): Promise<Store> {
  const sql = await openSqlStore(config);
  if (!config.redis) return sql;
  try {
    return await createRedisStore(sql, config.redis.url, {
      prefix: config.redis.prefix,
      idleTimeoutMs: config.session?.idleTimeoutMs,
      connectTimeoutMs: config.store?.connectTimeoutMs,
      commandTimeoutMs: config.store?.queryTimeoutMs,
    });
  } catch (err) {
    await sql.close();
    throw err;
  }
}

async function openSqlStore(config: OpenStoreConfig): Promise<Store> {
  // With WEBHOOK_URL, each new event is marked for the webhook outbox as it is written.
  const webhookEvents = config.webhooks != null;
  switch (config.database.kind) {
    case "sqlite":
      return createSqliteStore(config.database.path, { sessionCacheSize: config.session?.cacheSize, webhookEvents });
    case "postgres":
      return createPostgresStore(config.database.url, {
        autoMigrate: config.store?.autoMigrate,
        poolSize: config.store?.poolSize,
        connectTimeoutMs: config.store?.connectTimeoutMs,
        queryTimeoutMs: config.store?.queryTimeoutMs,
        webhookEvents,
      });
  }
}
