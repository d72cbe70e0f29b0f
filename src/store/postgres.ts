// The PostgreSQL engine: `pg` with a pool, for many instances sharing one
// database. Every query is bounded (connect timeout, statement timeout and a
// client-side query timeout for a silent network), and losing the database
// surfaces as StoreUnavailableError, which the app answers 503.
import pg from "pg";
import { ConfigError, maskUrl } from "../config.js";
import { createBatchLoader } from "./batch.js";
import { postgresMigrations } from "./migrations/postgres.js";
import { createPostgresTokenStore } from "./token-store-postgres.js";
import type { TokenStore } from "./token-store.js";
import {
  EmailTakenError,
  StoreUnavailableError,
  type AdminGuardedResult,
  type Role,
  type SessionRow,
  type SessionWithUser,
  type Store,
  type UserRow,
} from "./store.js";

export interface PostgresOptions {
  /** Schema holding the tables (created if missing); overrides `?schema=` in the URL. Default: the server's search_path. */
  schema?: string | undefined;
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Apply pending migrations before returning (default true). */
  autoMigrate?: boolean;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Splits our own `schema` parameter off a postgres:// URL (pg would pass it
 * to the server as an unknown setting). `options=-c search_path=x` also works,
 * since pg forwards it as is.
 */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // A TypeError from URL carries the whole input, password included.
    throw new ConfigError(`DATABASE_URL is not a valid URL, got "${maskUrl(url)}"`);
  }
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`DATABASE_URL schema must be a plain identifier (letters, digits, _), got "${schema}"`);
  }
  return { connectionString: parsed.toString(), schema };
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** SQLSTATEs and client errors that mean "the database is not there", not "your query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4]|57014)/; // connection, resources, admin shutdown, statement timeout
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const UNAVAILABLE_MESSAGE = /timeout|Connection terminated|not queryable|Client was closed|Connection closed/i;

export function isPostgresUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
  }
  return UNAVAILABLE_MESSAGE.test(err.message);
}

function unavailable(err: unknown): unknown {
  // The message names the failure kind only: connection strings (and their passwords) stay out of errors.
  if (isPostgresUnavailable(err)) {
    return new StoreUnavailableError(`PostgreSQL unavailable: ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
  return err;
}

export function createPostgresPool(url: string, options: PostgresOptions = {}): { pool: pg.Pool; schema: string | undefined } {
  const { connectionString, schema: urlSchema } = parsePostgresUrl(url);
  const schema = options.schema ?? urlSchema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new ConfigError(`Invalid PostgreSQL schema name "${schema}"`);
  const queryTimeoutMs = options.queryTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    // The server cancels a slow statement; the client gives up a little later if the network is silent.
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + 1000,
    idle_in_transaction_session_timeout: queryTimeoutMs * 2,
    keepAlive: true,
    application_name: "latchkey",
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client whose backend dies (restart, pg_terminate_backend) emits here; without a
  // listener that would crash the process. The pool drops it and connects afresh next time.
  pool.on("error", () => {});
  return { pool, schema };
}

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

interface UserRecord {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

interface SessionRecord {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

// pg returns bigint as a string (it may exceed 2^53); epoch milliseconds never do.
const toUser = (r: UserRecord): UserRow => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  role: r.role,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  lastLoginAt: r.last_login_at === null ? null : Number(r.last_login_at),
});

const toSession = (r: SessionRecord): SessionRow => ({
  id: r.id,
  tokenHash: r.token_hash,
  userId: r.user_id,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
  userAgent: r.user_agent,
  ip: r.ip,
});

/** The same methods, with "cannot reach PostgreSQL" turned into StoreUnavailableError (503). */
function withUnavailable<T extends object>(target: T): T {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(target)) {
    wrapped[name] =
      typeof fn === "function"
        ? async (...args: unknown[]) => {
            try {
              return await fn.apply(target, args);
            } catch (err) {
              throw unavailable(err);
            }
          }
        : fn;
  }
  return wrapped as T;
}

const USER_COLUMNS = "id, email, password_hash, role, created_at, updated_at, last_login_at";

export async function createPostgresStore(url: string, options: PostgresOptions = {}): Promise<Store & { pool: pg.Pool; schema: string | undefined; tokens: TokenStore }> {
  const { pool, schema } = createPostgresPool(url, options);
  try {
    if (options.autoMigrate !== false) {
      await migratePostgres(pool, { ...options, schema });
    } else {
      // Without auto-migration, refuse to run on a schema this code does not match.
      const pending = await pendingPostgresMigrations(pool);
      if (pending.length > 0) {
        throw new ConfigError(
          `PostgreSQL schema${schema ? ` "${schema}"` : ""} lacks migration(s) ${pending.join(", ")}: run \`latchkey migrate\` or set AUTO_MIGRATE=true`,
        );
      }
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
  // Serialises admin-guarded changes within this schema (and only this one).
  const adminLockKey = `latchkey.admins:${schema ?? "default"}`;

  const query = async <R extends pg.QueryResultRow>(text: string | { name: string; text: string }, params: unknown[] = []) => {
    try {
      // A named query is prepared once per connection, then only bound and run.
      return await (typeof text === "string" ? pool.query<R>(text, params) : pool.query<R>({ ...text, values: params }));
    } catch (err) {
      throw unavailable(err);
    }
  };

  /** Runs `write` only if an admin would remain, in one transaction holding the admins lock. */
  const guardAdmins = async (userId: string, write: (c: pg.PoolClient) => Promise<unknown>): Promise<AdminGuardedResult> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unavailable(err);
    }
    let broken: unknown;
    try {
      await client.query("BEGIN");
      // Two admins demoting each other at once: the second waits here and then sees the first's commit.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [adminLockKey]);
      const { rows } = await client.query<{ role: Role; others: string }>(
        `SELECT role, (SELECT count(*) FROM users WHERE role = 'admin' AND id <> $1) AS others
           FROM users WHERE id = $1`,
        [userId],
      );
      const user = rows[0];
      let result: AdminGuardedResult = "ok";
      if (!user) result = "not_found";
      else if (user.role === "admin" && Number(user.others) === 0) result = "last_admin";
      else await write(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      broken = err;
      await client.query("ROLLBACK").catch(() => {});
      throw unavailable(err);
    } finally {
      // A client that failed mid-transaction may be dead: destroy it rather than reuse it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  };

  const tokens: TokenStore = withUnavailable(createPostgresTokenStore(pool));

  // Session reads, batched (see batch.ts): the hot path of every authenticated
  // request. One batch in flight at a time: the lookups that arrive during a
  // round trip all go in the next one, so under load each query carries many
  // (bench: 37k GET /me per second with one, 27k with two or four, where
  // smaller batches cost the database more), and the rest of the pool stays
  // free for writes and other reads.
  const findSessions = createBatchLoader<string, SessionWithUser>(
    async (hashes) => {
      const { rows } = await query<UserRecord & SessionRecord & { s_id: string; s_created_at: string }>(
        {
          name: "latchkey.find_sessions",
          text: `SELECT s.id AS s_id, s.token_hash, s.user_id, s.created_at AS s_created_at, s.last_seen_at,
                        s.expires_at, s.user_agent, s.ip,
                        u.id, u.email, u.password_hash, u.role, u.created_at, u.updated_at, u.last_login_at
                   FROM sessions s JOIN users u ON u.id = s.user_id
                  WHERE s.token_hash = ANY($1::text[])`,
        },
        [hashes],
      );
      const found = new Map<string, SessionWithUser>();
      for (const r of rows) {
        found.set(r.token_hash, { session: toSession({ ...r, id: r.s_id, created_at: r.s_created_at }), user: toUser(r) });
      }
      return found;
    },
    { maxInFlight: 1, maxBatch: 256 },
  );
  // User reads by id, batched the same way: with Redis holding the sessions,
  // this is the SQL half of every authenticated request.
  const findUsers = createBatchLoader<string, UserRow>(
    async (ids) => {
      const { rows } = await query<UserRecord>(
        { name: "latchkey.find_users", text: `SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::text[])` },
        [ids],
      );
      return new Map(rows.map((r) => [r.id, toUser(r)]));
    },
    { maxInFlight: 1, maxBatch: 256 },
  );

  return {
    engine: "postgres",
    pool,
    schema,
    tokens,

    async createUser(user) {
      try {
        await pool.query(
          `INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
          [user.id, user.email, user.passwordHash, user.role, user.createdAt],
        );
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === "23505" && e.constraint === "users_email_key") throw new EmailTakenError();
        throw unavailable(err);
      }
      return { ...user, updatedAt: user.createdAt, lastLoginAt: null };
    },
    async findUserByEmail(email) {
      const { rows } = await query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [email]);
      return rows[0] ? toUser(rows[0]) : null;
    },
    findUserById: findUsers,
    async setPasswordHash(userId, passwordHash, now) {
      await query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", [passwordHash, now, userId]);
    },
    async recordLogin(userId, now) {
      await query("UPDATE users SET last_login_at = $1 WHERE id = $2", [now, userId]);
    },
    async listUsers({ limit, cursor, emailPrefix }) {
      const { rows } = await query<UserRecord>(
        `SELECT ${USER_COLUMNS} FROM users WHERE id > $1 AND starts_with(email, $2) ORDER BY id LIMIT $3`,
        [cursor ?? "", emailPrefix ?? "", limit + 1],
      );
      const users = rows.slice(0, limit).map(toUser);
      return { users, nextCursor: rows.length > limit ? users[users.length - 1]!.id : null };
    },
    async setUserRole(userId, role, now) {
      if (role === "admin") {
        const r = await query("UPDATE users SET role = 'admin', updated_at = $1 WHERE id = $2", [now, userId]);
        return (r.rowCount ?? 0) > 0 ? "ok" : "not_found";
      }
      return guardAdmins(userId, (c) => c.query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3", [role, now, userId]));
    },
    async deleteUser(userId) {
      // Sessions go by ON DELETE CASCADE.
      return guardAdmins(userId, (c) => c.query("DELETE FROM users WHERE id = $1", [userId]));
    },

    async createSession(s) {
      await query(
        `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [s.tokenHash, s.id, s.userId, s.createdAt, s.lastSeenAt, s.expiresAt, s.userAgent, s.ip],
      );
    },
    findSession: findSessions,
    async touchSession(tokenHash, lastSeenAt) {
      // An UPDATE, never an upsert: a deleted row stays deleted.
      const r = await query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", [lastSeenAt, tokenHash]);
      return (r.rowCount ?? 0) > 0;
    },
    async deleteSession(tokenHash) {
      await query("DELETE FROM sessions WHERE token_hash = $1", [tokenHash]);
    },
    async listUserSessions(userId) {
      const { rows } = await query<SessionRecord>(
        "SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id",
        [userId],
      );
      return rows.map(toSession);
    },
    async deleteUserSession(userId, sessionId) {
      const r = await query("DELETE FROM sessions WHERE user_id = $1 AND id = $2", [userId, sessionId]);
      return (r.rowCount ?? 0) > 0;
    },
    async deleteUserSessions(userId, exceptTokenHash) {
      const r = await query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2", [
        userId,
        exceptTokenHash ?? null,
      ]);
      return r.rowCount ?? 0;
    },
    async deleteAllSessions() {
      const r = await query("DELETE FROM sessions");
      return r.rowCount ?? 0;
    },
    async pruneSessions(now, idleTimeoutMs, limit) {
      const r = await query(
        `DELETE FROM sessions WHERE token_hash IN (
           SELECT token_hash FROM sessions WHERE expires_at <= $1::bigint OR last_seen_at <= $1::bigint - $2::bigint
            LIMIT $3)`,
        [now, idleTimeoutMs, limit],
      );
      return r.rowCount ?? 0;
    },

    async hitCounter(key, windowMs, now) {
      // One statement: the row lock of ON CONFLICT makes concurrent hits queue, none is lost.
      const { rows } = await query<{ count: number; reset_at: string }>(
        `INSERT INTO counters AS c (key, count, reset_at) VALUES ($1, 1, $2::bigint + $3::bigint)
         ON CONFLICT (key) DO UPDATE SET
           count    = CASE WHEN c.reset_at <= $2::bigint THEN 1 ELSE c.count + 1 END,
           reset_at = CASE WHEN c.reset_at <= $2::bigint THEN $2::bigint + $3::bigint ELSE c.reset_at END
         RETURNING count, reset_at`,
        [key, now, windowMs],
      );
      return { count: rows[0]!.count, resetAt: Number(rows[0]!.reset_at) };
    },
    async peekCounter(key, now) {
      const { rows } = await query<{ count: number; reset_at: string }>(
        "SELECT count, reset_at FROM counters WHERE key = $1 AND reset_at > $2",
        [key, now],
      );
      return rows[0] ? { count: rows[0].count, resetAt: Number(rows[0].reset_at) } : null;
    },
    async deleteCounter(key) {
      await query("DELETE FROM counters WHERE key = $1", [key]);
    },
    async pruneCounters(now, limit) {
      const r = await query(
        "DELETE FROM counters WHERE key IN (SELECT key FROM counters WHERE reset_at <= $1 LIMIT $2)",
        [now, limit],
      );
      return r.rowCount ?? 0;
    },

    async ping() {
      await query("SELECT 1");
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
