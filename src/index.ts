// The library surface.
export { createLatchkey, type Latchkey, type LatchkeyOptions } from "./latchkey.js";
export { startServer, type RunningServer } from "./serve.js";
export { loadConfig, ConfigError, type Config } from "./config.js";
export { openStore } from "./store/open.js";
export { createSqliteStore } from "./store/sqlite.js";
export { createPostgresStore, migratePostgres } from "./store/postgres.js";
export { createRedisStore } from "./store/redis.js";
export { bootstrapAdmin } from "./admin-bootstrap.js";
export { revokeUserTokens } from "./auth/bearer.js";
export type { Store, UserRow, SessionRow, Role } from "./store/store.js";
export { getSessionToken, readSessionCookie, sessionCookie, clearSessionCookie, sessionCookieName } from "./auth/cookies.js";
export { requireRole, type Authenticated } from "./auth/authenticate.js";
export { checkCrossSite } from "./auth/csrf.js";
export type { User } from "./schemas.js";
