// The store constructors of the public API (index.ts). Each loads its engine
// module only when called, so importing "latchkey" loads neither pg nor
// ioredis, and their declared types never mention pg's or ioredis' own types
// (a consumer type-checks without @types/pg or @types/better-sqlite3).
import { importOptional, MissingPackageError } from "./optional-import.js";
import { createSqliteStore as openSqlite } from "./store/sqlite/index.js";
import type { Store } from "./store/store.js";

/** Options of createPostgresStore(); the same fields as store/postgres/connection.ts's PostgresOptions. */
export interface PostgresStoreOptions {
  /** Schema holding the tables (created if missing); overrides `?schema=` in the URL. */
  schema?: string | undefined;
  poolSize?: number | undefined;
  connectTimeoutMs?: number | undefined;
  queryTimeoutMs?: number | undefined;
  /** Apply pending migrations before returning (default true). */
  autoMigrate?: boolean | undefined;
  /** Mark each new event for the webhook deliverer (WEBHOOK_URL is set). */
  webhookEvents?: boolean | undefined;
}

export interface RedisStoreOptions {
  /** Namespace for every key (default "latchkey:"). */
  prefix?: string | undefined;
  /** A session key expires this long after its last touch (default: only the absolute lifetime). */
  idleTimeoutMs?: number | undefined;
  connectTimeoutMs?: number | undefined;
  commandTimeoutMs?: number | undefined;
}

export interface SqliteStoreOptions {
  /** Session+user reads kept in process; 0 turns the cache off. */
  sessionCacheSize?: number | undefined;
  /** Mark each new event for the webhook deliverer (WEBHOOK_URL is set). */
  webhookEvents?: boolean | undefined;
}

const loadPostgres = () => importOptional("pg", "DATABASE_URL is a postgres:// URL", () => import("./store/postgres/index.js"));
const loadRedis = () => importOptional("ioredis", "REDIS_URL is set", () => import("./store/redis/index.js"));

/** Strips `undefined` members, which the engines' own option types (without exactOptionalPropertyTypes) treat as absent anyway. */
const defined = <T extends object>(options: T) =>
  Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };

/**
 * An SQLite store on a file (created and migrated if needed); `:memory:` for a
 * throwaway one. better-sqlite3 is a regular dependency, but its native
 * binding is built at install time, which npm 11 skips unless the app allows
 * it: that failure says how to fix it instead of "Could not locate the bindings file".
 */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  try {
    return openSqlite(path, defined(options));
  } catch (err) {
    if (isMissingBinding(err)) throw new MissingPackageError(SQLITE_BINDING_HELP);
    throw err;
  }
}

export const SQLITE_BINDING_HELP =
  'better-sqlite3 has no native binding for this Node.js: allow its install script (npm 11: "allowScripts": {"better-sqlite3": true} in package.json) and run "npm rebuild better-sqlite3"';

function isMissingBinding(err: unknown): boolean {
  const message = (err as Error)?.message ?? "";
  return /bindings file|better_sqlite3\.node|NODE_MODULE_VERSION|ERR_DLOPEN_FAILED/.test(message) || (err as { code?: string })?.code === "ERR_DLOPEN_FAILED";
}

/** A PostgreSQL store (needs the `pg` package), migrated unless `autoMigrate: false`. */
export async function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const { createPostgresStore } = await loadPostgres();
  return createPostgresStore(url, defined(options));
}

/** Applies pending PostgreSQL migrations (needs `pg`); resolves to the versions applied. */
export async function migratePostgres(url: string, options: PostgresStoreOptions = {}): Promise<number[]> {
  const { migratePostgres } = await loadPostgres();
  return migratePostgres(url, defined(options));
}

/** Sessions and counters in Redis (needs `ioredis`), users in `sql`. */
export async function createRedisStore(sql: Store, url: string, options: RedisStoreOptions = {}): Promise<Store> {
  const { createRedisStore } = await loadRedis();
  return createRedisStore(sql, url, defined(options));
}
