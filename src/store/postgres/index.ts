// The PostgreSQL engine: `pg` with a pool, for many instances sharing one
// database. Every query is bounded (connect timeout, statement timeout and a
// client-side query timeout for a silent network), and losing the database
// surfaces as StoreUnavailableError (connection.ts), which the app answers 503.
import type pg from "pg";
import { ConfigError } from "../../config.js";
import { createBatchLoader } from "../batch.js";
import { connectionOf, createPostgresPool, type PostgresOptions } from "./connection.js";
import { migratePostgres, pendingPostgresMigrations } from "./migrate.js";
import { createPostgresEventStore } from "./events.js";
import { createPostgresFactorStore } from "./factors.js";
import { createPostgresTokenStore } from "./tokens.js";
import { createPostgresOutbox } from "./outbox.js";
import type { NewEvent } from "../event-store.js";
import type { TokenStore } from "../token-store.js";
import {
  EmailTakenError,
  type AdminGuardedResult,
  type Aal,
  type Role,
  type SessionRow,
  type SessionWithUser,
  type Store,
  type UserRow,
} from "../store.js";

export { createPostgresPool, isPostgresUnavailable, parsePostgresUrl, type PostgresOptions } from "./connection.js";
export { migratePostgres, pendingPostgresMigrations } from "./migrate.js";

interface UserRecord {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
  email_verified_at: string | null;
  disabled_until: string | null;
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
  authenticated_at: string | null;
  aal: Aal;
  impersonator_id: string | null;
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
  emailVerifiedAt: r.email_verified_at === null ? null : Number(r.email_verified_at),
  disabledUntil: r.disabled_until === null ? null : Number(r.disabled_until),
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
  // Nullable, as on SQLite: an instance of the previous release, still running during an upgrade, writes none.
  authenticatedAt: Number(r.authenticated_at ?? r.created_at),
  aal: r.aal,
  impersonatorId: r.impersonator_id,
});

const USER_COLUMNS = "id, email, password_hash, role, created_at, updated_at, last_login_at, email_verified_at, disabled_until";

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

  const db = connectionOf(pool);
  const { query } = db;
  const events = createPostgresEventStore(db, { webhookEvents: options.webhookEvents ?? false });

  /**
   * One statement and its event (if any) in one transaction; the event is
   * written only when `happened` says the statement changed something.
   */
  const recorded = async (
    text: string,
    params: unknown[],
    event: NewEvent | undefined,
    happened: (r: pg.QueryResult) => boolean = () => true,
  ): Promise<pg.QueryResult> => {
    if (!event) return query(text, params);
    return db.transaction(async (client) => {
      const r = await client.query(text, params);
      if (happened(r)) await events.insert(client, event);
      return r;
    });
  };
  const changedRows = (r: pg.QueryResult) => (r.rowCount ?? 0) > 0;

  /** Runs `write` only if an admin would remain, in one transaction holding the admins lock. */
  const guardAdmins = (userId: string, write: (c: pg.PoolClient) => Promise<unknown>, event: NewEvent | undefined): Promise<AdminGuardedResult> =>
    db.transaction(async (client) => {
      // Two admins demoting each other at once: the second waits here and then sees the first's commit.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [adminLockKey]);
      const { rows } = await client.query<{ role: Role; others: string }>(
        `SELECT role, (SELECT count(*) FROM users WHERE role = 'admin' AND id <> $1 AND disabled_until IS NULL) AS others
           FROM users WHERE id = $1`,
        [userId],
      );
      const user = rows[0];
      if (!user) return "not_found";
      if (user.role === "admin" && Number(user.others) === 0) return "last_admin";
      await write(client);
      if (event) await events.insert(client, event);
      return "ok";
    });

  const tokens: TokenStore = createPostgresTokenStore(db, events.insert);

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
                        s.expires_at, s.user_agent, s.ip, s.authenticated_at, s.aal, s.impersonator_id,
                        u.id, u.email, u.password_hash, u.role, u.created_at, u.updated_at, u.last_login_at, u.email_verified_at, u.disabled_until
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
    factors: createPostgresFactorStore(db, events.insert),
    webhooks: createPostgresOutbox(db),
    events: { append: events.append, list: events.list, prune: events.prune },

    async createUser(user, event) {
      try {
        await recorded(
          `INSERT INTO users (id, email, password_hash, role, created_at, updated_at, email_verified_at) VALUES ($1, $2, $3, $4, $5, $5, $6)`,
          [user.id, user.email, user.passwordHash, user.role, user.createdAt, user.emailVerifiedAt ?? null],
          event,
        );
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === "23505" && e.constraint === "users_email_key") throw new EmailTakenError();
        throw err;
      }
      return { ...user, updatedAt: user.createdAt, lastLoginAt: null, emailVerifiedAt: user.emailVerifiedAt ?? null, disabledUntil: null };
    },
    async findUserByEmail(email) {
      const { rows } = await query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [email]);
      return rows[0] ? toUser(rows[0]) : null;
    },
    findUserById: findUsers,
    async setPasswordHash(userId, passwordHash, now, event) {
      await recorded("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3", [passwordHash, now, userId], event);
    },
    async recordLogin(userId, now, event) {
      await recorded("UPDATE users SET last_login_at = $1 WHERE id = $2", [now, userId], event);
    },
    async setEmail(userId, email, verifiedAt, now, event) {
      try {
        const r = await recorded(
          "UPDATE users SET email = $1, email_verified_at = $2, updated_at = $3 WHERE id = $4",
          [email, verifiedAt, now, userId],
          event,
          changedRows,
        );
        return changedRows(r);
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === "23505" && e.constraint === "users_email_key") throw new EmailTakenError();
        throw err;
      }
    },
    async markEmailVerified(userId, email, now, event) {
      const r = await recorded("UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email = $3", [now, userId, email], event, changedRows);
      return changedRows(r);
    },
    async listUsers({ limit, cursor, emailPrefix }) {
      const { rows } = await query<UserRecord>(
        `SELECT ${USER_COLUMNS} FROM users WHERE id > $1 AND starts_with(email, $2) ORDER BY id LIMIT $3`,
        [cursor ?? "", emailPrefix ?? "", limit + 1],
      );
      const users = rows.slice(0, limit).map(toUser);
      return { users, nextCursor: rows.length > limit ? users[users.length - 1]!.id : null };
    },
    async setUserRole(userId, role, now, event) {
      if (role === "admin") {
        const r = await recorded("UPDATE users SET role = 'admin', updated_at = $1 WHERE id = $2", [now, userId], event, changedRows);
        return changedRows(r) ? "ok" : "not_found";
      }
      return guardAdmins(userId, (c) => c.query("UPDATE users SET role = $1, updated_at = $2 WHERE id = $3", [role, now, userId]), event);
    },
    async setDisabledUntil(userId, until, now, event) {
      if (until === null) {
        const r = await recorded("UPDATE users SET disabled_until = NULL, updated_at = $1 WHERE id = $2", [now, userId], event, changedRows);
        return changedRows(r) ? "ok" : "not_found";
      }
      return guardAdmins(userId, (c) => c.query("UPDATE users SET disabled_until = $1, updated_at = $2 WHERE id = $3", [until, now, userId]), event);
    },
    async deleteUser(userId, event) {
      // Sessions go by ON DELETE CASCADE.
      return guardAdmins(userId, (c) => c.query("DELETE FROM users WHERE id = $1", [userId]), event);
    },

    async createSession(s) {
      await query(
        `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, user_agent, ip, authenticated_at, aal, impersonator_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [s.tokenHash, s.id, s.userId, s.createdAt, s.lastSeenAt, s.expiresAt, s.userAgent, s.ip, s.authenticatedAt, s.aal, s.impersonatorId],
      );
    },
    findSession: findSessions,
    async touchSession(tokenHash, lastSeenAt) {
      // An UPDATE, never an upsert: a deleted row stays deleted.
      const r = await query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", [lastSeenAt, tokenHash]);
      return (r.rowCount ?? 0) > 0;
    },
    async deleteSession(tokenHash, event) {
      if (!event) return void (await query("DELETE FROM sessions WHERE token_hash = $1", [tokenHash]));
      await db.transaction(async (client) => {
        const { rows } = await client.query<{ id: string; user_id: string }>(
          "DELETE FROM sessions WHERE token_hash = $1 RETURNING id, user_id",
          [tokenHash],
        );
        const gone = rows[0];
        if (gone) await events.insert(client, { ...event, userId: event.userId ?? gone.user_id, sessionId: event.sessionId ?? gone.id });
      });
    },
    async listUserSessions(userId) {
      const { rows } = await query<SessionRecord>(
        "SELECT * FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, id",
        [userId],
      );
      return rows.map(toSession);
    },
    async deleteUserSession(userId, sessionId, event) {
      const r = await recorded("DELETE FROM sessions WHERE user_id = $1 AND id = $2", [userId, sessionId], event, changedRows);
      return changedRows(r);
    },
    async deleteUserSessions(userId, exceptTokenHash, event) {
      const r = await recorded(
        "DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
        [userId, exceptTokenHash ?? null],
        event,
      );
      return r.rowCount ?? 0;
    },
    async deleteAllSessions(event) {
      const r = await recorded("DELETE FROM sessions", [], event);
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
