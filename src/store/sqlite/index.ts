// The embedded engine: better-sqlite3 on a file in WAL mode. Calls are
// synchronous underneath (microseconds for an indexed read) and wrapped in the
// Store's promise interface.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { sqliteMigrations } from "./migrations.js";
import { createBatchLoader } from "../batch.js";
import { attachSessionCache, type SessionCacheStats } from "./cache.js";
import { createSqliteEventStore } from "./events.js";
import { createSqliteFactorStore } from "./factors.js";
import { createSqliteTokenStore } from "./tokens.js";
import { createSqliteOutbox } from "./outbox.js";
import type { NewEvent } from "../event-store.js";
import {
  EmailTakenError,
  StoreUnavailableError,
  type AdminGuardedResult,
  type Aal,
  type Role,
  type SessionRow,
  type SessionWithUser,
  type Store,
  type UserRow,
} from "../store.js";

interface UserRecord {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  email_verified_at: number | null;
  disabled_until: number | null;
}

interface SessionRecord {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  user_agent: string | null;
  ip: string | null;
  authenticated_at: number | null;
  aal: Aal;
  impersonator_id: string | null;
}

const toUser = (r: UserRecord): UserRow => ({
  id: r.id,
  email: r.email,
  passwordHash: r.password_hash,
  role: r.role,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastLoginAt: r.last_login_at,
  emailVerifiedAt: r.email_verified_at,
  disabledUntil: r.disabled_until,
});

const toSession = (r: SessionRecord): SessionRow => ({
  id: r.id,
  tokenHash: r.token_hash,
  userId: r.user_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  userAgent: r.user_agent,
  ip: r.ip,
  authenticatedAt: r.authenticated_at ?? r.created_at, // a row written without it (an instance of the previous release) was made at log-in
  aal: r.aal,
  impersonatorId: r.impersonator_id,
});

/** Opens (creating if needed) the database file and applies pending migrations. */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL"); // durable across process crashes in WAL mode
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000"); // the CLI or a second process may hold the write lock briefly
  migrateSqlite(db);
  return db;
}

/**
 * The engine's one error mapping: SQLite's "not now" answers (another process
 * held the write lock past busy_timeout, a failing or full disk) become
 * StoreUnavailableError, answered 503 like an unreachable PostgreSQL or Redis.
 * Anything else (a constraint, a bug) passes through unchanged.
 */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/;
export function toSqliteStoreError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && UNAVAILABLE.test(code) ? new StoreUnavailableError(`SQLite unavailable: ${code}`) : err;
}

/** The same object with every method's rejection passed through toSqliteStoreError. */
export function mappingSqliteErrors<T extends object>(methods: T): T {
  const out = { ...methods } as Record<string, unknown>;
  for (const [name, f] of Object.entries(methods)) {
    if (typeof f !== "function") continue;
    out[name] = async (...args: unknown[]) => {
      try {
        return await (f as (...a: unknown[]) => unknown).apply(methods, args);
      } catch (err) {
        throw toSqliteStoreError(err);
      }
    };
  }
  return out as T;
}

export function migrateSqlite(db: Database.Database): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    db.prepare("SELECT version FROM schema_migrations").pluck().all() as number[],
  );
  const ran: number[] = [];
  for (const m of sqliteMigrations) {
    if (applied.has(m.version)) continue;
    // IMMEDIATE takes the write lock first, so two processes starting at once
    // cannot both apply the same step.
    db.transaction(() => {
      const again = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").get(m.version);
      if (again) return;
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(
        m.version,
        m.name,
        Date.now(),
      );
      ran.push(m.version);
    }).immediate();
  }
  return ran;
}

export interface SqliteStoreOptions {
  /** Session+user reads kept in process (see cache.ts); 0 turns the cache off. */
  sessionCacheSize?: number;
  /** Mark each new event for the webhook deliverer (WEBHOOK_URL is set). */
  webhookEvents?: boolean;
}

export const DEFAULT_SESSION_CACHE_SIZE = 10_000;

export function createSqliteStore(
  path: string,
  options: SqliteStoreOptions = {},
): Store & {
  /** For bulk seeding (bench) and fault tests only: the session cache does not see writes made through it. */
  db: Database.Database;
  /** The session cache's hit and miss counts, for GET /metrics (only this engine has the cache). */
  sessionCacheStats(): SessionCacheStats;
} {
  const db = openSqliteDatabase(path);
  // Every write method below states its effect on the cache.
  const cache = attachSessionCache(db, options.sessionCacheSize ?? DEFAULT_SESSION_CACHE_SIZE);
  const events = createSqliteEventStore(db, { webhookEvents: options.webhookEvents ?? false });
  /** The write and its event (if any) in one transaction: both commit or neither. */
  const recorded = <T>(write: () => T, event: NewEvent | undefined, happened: (result: T) => boolean = () => true): T => {
    if (!event) return write();
    return db
      .transaction(() => {
        const result = write();
        if (happened(result)) events.insert(event);
        return result;
      })
      .immediate();
  };

  const insertUser = db.prepare(
    `INSERT INTO users (id, email, password_hash, role, created_at, updated_at, email_verified_at)
     VALUES (@id, @email, @passwordHash, @role, @createdAt, @createdAt, @emailVerifiedAt)`,
  );
  const userByEmail = db.prepare("SELECT * FROM users WHERE email = ?");
  const userById = db.prepare("SELECT * FROM users WHERE id = ?");
  const setPassword = db.prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?");
  const setLastLogin = db.prepare("UPDATE users SET last_login_at = ? WHERE id = ?");
  const setVerified = db.prepare("UPDATE users SET email_verified_at = ? WHERE id = ? AND email = ?");
  const setEmailRow = db.prepare("UPDATE users SET email = ?, email_verified_at = ?, updated_at = ? WHERE id = ?");
  const insertSession = db.prepare(
    `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, user_agent, ip, authenticated_at, aal, impersonator_id)
     VALUES (@tokenHash, @id, @userId, @createdAt, @lastSeenAt, @expiresAt, @userAgent, @ip, @authenticatedAt, @aal, @impersonatorId)`,
  );
  const sessionWithUser = db.prepare(
    `SELECT s.id AS s_id, s.token_hash, s.user_id, s.created_at AS s_created_at, s.last_seen_at,
            s.expires_at, s.user_agent, s.ip, s.authenticated_at, s.aal, s.impersonator_id,
            u.id, u.email, u.password_hash, u.role, u.created_at, u.updated_at, u.last_login_at, u.email_verified_at, u.disabled_until
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = ?`,
  );
  const touch = db.prepare("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?");
  const deleteByHash = db.prepare("DELETE FROM sessions WHERE token_hash = ? RETURNING id, user_id");
  const deleteByUser = db.prepare("DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?");
  const sessionsOfUser = db.prepare("SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id");
  const deleteOneOfUser = db.prepare("DELETE FROM sessions WHERE user_id = ? AND id = ?");
  const deleteEverySession = db.prepare("DELETE FROM sessions");
  const usersPage = db.prepare(
    `SELECT * FROM users WHERE id > @cursor AND substr(email, 1, length(@prefix)) = @prefix
      ORDER BY id LIMIT @limit`,
  );
  // Admins that are not disabled (a temporary disable counts as disabled until it is lifted: the safe side).
  const otherAdmins = db.prepare("SELECT count(*) FROM users WHERE role = 'admin' AND id <> ? AND disabled_until IS NULL").pluck();
  const setDisabled = db.prepare("UPDATE users SET disabled_until = ?, updated_at = ? WHERE id = ?");
  const setRole = db.prepare("UPDATE users SET role = ?, updated_at = ? WHERE id = ?");
  const deleteUserRow = db.prepare("DELETE FROM users WHERE id = ?");
  const hit = db.prepare(
    `INSERT INTO counters (key, count, reset_at) VALUES (@key, 1, @now + @window)
     ON CONFLICT (key) DO UPDATE SET
       count    = CASE WHEN reset_at <= @now THEN 1 ELSE count + 1 END,
       reset_at = CASE WHEN reset_at <= @now THEN @now + @window ELSE reset_at END
     RETURNING count, reset_at`,
  );
  const peek = db.prepare("SELECT count, reset_at FROM counters WHERE key = ? AND reset_at > ?");
  const deleteCounter = db.prepare("DELETE FROM counters WHERE key = ?");
  const pruneCounters = db.prepare(
    "DELETE FROM counters WHERE key IN (SELECT key FROM counters WHERE reset_at <= ? LIMIT ?)",
  );

  /**
   * Runs a role-changing write only if an admin would remain, with its event;
   * one transaction, so two admins cannot demote each other.
   */
  const guardAdmins = (userId: string, write: () => void, event: NewEvent | undefined): AdminGuardedResult =>
    db
      .transaction((): AdminGuardedResult => {
        const user = userById.get(userId) as UserRecord | undefined;
        if (!user) return "not_found";
        if (user.role === "admin" && (otherAdmins.get(userId) as number) === 0) return "last_admin";
        write();
        if (event) events.insert(event);
        return "ok";
      })
      .immediate();
  const prune = db.prepare(
    `DELETE FROM sessions WHERE token_hash IN (
       SELECT token_hash FROM sessions WHERE expires_at <= @now
       UNION SELECT token_hash FROM sessions WHERE last_seen_at <= @now - @idle
       LIMIT @limit)`,
  );

  const loadSession = (tokenHash: string): SessionWithUser | null => {
    const r = sessionWithUser.get(tokenHash) as
      | (UserRecord & SessionRecord & { s_id: string; s_created_at: number })
      | undefined;
    if (!r) return null;
    return { session: toSession({ ...r, id: r.s_id, created_at: r.s_created_at }), user: toUser(r) };
  };
  // Session lookups asked for during one event-loop turn are answered together
  // once it ends: under load, one look at other connections' commits (PRAGMA
  // data_version) then covers a whole turn's requests, and it is still taken
  // after each of them arrived, so revocation elsewhere stays immediate.
  const findSessions = createBatchLoader<string, SessionWithUser>(
    async (hashes) => cache.readBatch(hashes, loadSession),
    { maxInFlight: 1, maxBatch: 256 },
  );

  const store: Store & { db: Database.Database } = mappingSqliteErrors({
    engine: "sqlite" as const,
    db,
    tokens: mappingSqliteErrors(createSqliteTokenStore(db, events)),
    factors: mappingSqliteErrors(createSqliteFactorStore(db, events)),
    webhooks: mappingSqliteErrors(createSqliteOutbox(db)),
    events: mappingSqliteErrors({ append: events.append, list: events.list, prune: events.prune }),

    async createUser(user, event) {
      try {
        recorded(() => insertUser.run({ ...user, emailVerifiedAt: user.emailVerifiedAt ?? null }), event);
      } catch (err) {
        if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw new EmailTakenError();
        throw err;
      }
      return { ...user, updatedAt: user.createdAt, lastLoginAt: null, emailVerifiedAt: user.emailVerifiedAt ?? null, disabledUntil: null };
    },
    async findUserByEmail(email) {
      const r = userByEmail.get(email) as UserRecord | undefined;
      return r ? toUser(r) : null;
    },
    async findUserById(id) {
      const r = userById.get(id) as UserRecord | undefined;
      return r ? toUser(r) : null;
    },
    async setPasswordHash(userId, passwordHash, now, event) {
      recorded(() => setPassword.run(passwordHash, now, userId), event);
      cache.forgetUser(userId);
    },
    async recordLogin(userId, now, event) {
      recorded(() => setLastLogin.run(now, userId), event);
      cache.forgetUser(userId);
    },
    async setEmail(userId, email, verifiedAt, now, event) {
      cache.forgetUser(userId);
      try {
        return recorded(() => setEmailRow.run(email, verifiedAt, now, userId).changes > 0, event, (changed) => changed);
      } catch (err) {
        if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw new EmailTakenError();
        throw err;
      }
    },
    async markEmailVerified(userId, email, now, event) {
      const verified = recorded(() => setVerified.run(now, userId, email).changes > 0, event, (changed) => changed);
      cache.forgetUser(userId);
      return verified;
    },
    async listUsers({ limit, cursor, emailPrefix }) {
      const rows = usersPage.all({ cursor: cursor ?? "", prefix: emailPrefix ?? "", limit: limit + 1 }) as UserRecord[];
      const users = rows.slice(0, limit).map(toUser);
      return { users, nextCursor: rows.length > limit ? users[users.length - 1]!.id : null };
    },
    async setUserRole(userId, role, now, event) {
      cache.forgetUser(userId);
      if (role === "admin") {
        const promoted = recorded(() => setRole.run(role, now, userId).changes > 0, event, (changed) => changed);
        return promoted ? "ok" : "not_found";
      }
      return guardAdmins(userId, () => setRole.run(role, now, userId), event);
    },
    async setDisabledUntil(userId, until, now, event) {
      cache.forgetUser(userId);
      if (until === null) return recorded(() => setDisabled.run(null, now, userId).changes > 0, event, (changed) => changed) ? "ok" : "not_found";
      return guardAdmins(userId, () => setDisabled.run(until, now, userId), event);
    },
    async deleteUser(userId, event) {
      cache.forgetUser(userId);
      // Sessions, refresh families and reset links go by ON DELETE CASCADE.
      return guardAdmins(userId, () => deleteUserRow.run(userId), event);
    },

    async createSession(session) {
      insertSession.run(session);
    },
    findSession: findSessions,
    async touchSession(tokenHash, lastSeenAt) {
      const touched = touch.run(lastSeenAt, tokenHash).changes > 0;
      if (touched) cache.touched(tokenHash, lastSeenAt);
      else cache.forget(tokenHash);
      return touched;
    },
    async deleteSession(tokenHash, event) {
      cache.forget(tokenHash);
      if (!event) return void deleteByHash.run(tokenHash);
      db.transaction(() => {
        const gone = deleteByHash.get(tokenHash) as { id: string; user_id: string } | undefined;
        if (gone) events.insert({ ...event, userId: event.userId ?? gone.user_id, sessionId: event.sessionId ?? gone.id });
      }).immediate();
    },
    async listUserSessions(userId) {
      return (sessionsOfUser.all(userId) as SessionRecord[]).map(toSession);
    },
    async deleteUserSession(userId, sessionId, event) {
      cache.forgetUser(userId);
      return recorded(() => deleteOneOfUser.run(userId, sessionId).changes > 0, event, (deleted) => deleted);
    },
    async deleteUserSessions(userId, exceptTokenHash, event) {
      cache.forgetUser(userId);
      return recorded(() => deleteByUser.run(userId, exceptTokenHash ?? null).changes, event);
    },
    async deleteAllSessions(event) {
      cache.clear();
      return recorded(() => deleteEverySession.run().changes, event);
    },
    async pruneSessions(now, idleTimeoutMs, limit) {
      const removed = prune.run({ now, idle: idleTimeoutMs, limit }).changes;
      if (removed > 0) cache.clear();
      return removed;
    },

    async hitCounter(key, windowMs, now) {
      const r = hit.get({ key, now, window: windowMs }) as { count: number; reset_at: number };
      return { count: r.count, resetAt: r.reset_at };
    },
    async peekCounter(key, now) {
      const r = peek.get(key, now) as { count: number; reset_at: number } | undefined;
      return r ? { count: r.count, resetAt: r.reset_at } : null;
    },
    async deleteCounter(key) {
      deleteCounter.run(key);
    },
    async pruneCounters(now, limit) {
      return pruneCounters.run(now, limit).changes;
    },

    async ping() {
      db.prepare("SELECT 1").get();
    },
    async close() {
      if (db.open) db.close();
    },
  });
  // Added after the error mapping, which makes every method async: this one is a synchronous read.
  return Object.assign(store, { sessionCacheStats: () => cache.stats });
}
