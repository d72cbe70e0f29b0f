// The library surface.
// The declarations use Node's types (Server, KeyObject, ...): @types/node is a dependency, referenced
// here so a consumer whose tsconfig has `"types": []` (tsc --init's default) still loads it.
/// <reference types="node" preserve="true" />
export { createLatchkey, type Latchkey, type LatchkeyOptions } from "./latchkey.js";
export { startServer, type RunningServer } from "./serve.js";
export { loadConfig, ConfigError, type Config } from "./config.js";
export { openStore } from "./store/open.js";
// pg and ioredis load only when these are called (optional peer dependencies).
export {
  createSqliteStore,
  createPostgresStore,
  migratePostgres,
  createRedisStore,
  type SqliteStoreOptions,
  type PostgresStoreOptions,
  type RedisStoreOptions,
} from "./engines.js";
export { MissingPackageError } from "./optional-import.js";
export { bootstrapAdmin } from "./auth/admin-bootstrap.js";
export { createAccounts, type Accounts } from "./auth/accounts.js";
export type { Store, UserRow, SessionRow, Role } from "./store/store.js";
export { getSessionToken, readSessionCookie, sessionCookie, clearSessionCookie, sessionCookieName } from "./auth/cookies.js";
export { requireRole, type Authenticated } from "./auth/authenticate.js";
export { checkCrossSite } from "./auth/csrf.js";
export type { User } from "./schemas.js";
