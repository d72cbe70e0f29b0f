// Sessions and counters in Redis, users in an SQL store: createRedisStore()
// composes the two into one Store. Redis gives native expiry (a session key
// lives min(absolute, idle) and each touch extends it) and shared counters.
//
// Keys under the prefix P:
//   P session:<tokenHash>        hash of the session's fields, with a TTL
//   P user-sessions:<userId>     set of the user's token hashes (revoke-all and listing stay O(sessions of user))
//   P sessions-by-seen           zset tokenHash -> lastSeenAt   } so pruneSessions(now) can answer for any
//   P sessions-by-expiry         zset tokenHash -> expiresAt    } clock, and stale index entries get swept
//   P counter:<key>              hash { count, resetAt }, with a TTL of the window
//
// Every read-modify-write is one Lua script, so it is atomic: a touch only
// updates a session that exists, so a deleted session can never come back.
//
// Events stay in SQL. Redis and SQL share no transaction, so the event of a
// session change is written to SQL first, then Redis changes: a change that
// was acknowledged always has its event (should the Redis step then fail, the
// client gets a 503 and the event records an attempt that may not have ended
// the session; it can simply be repeated).
// Scripts build some key names from the prefix, so this targets a single
// Redis (or a primary with replicas), not Redis Cluster.
import { Redis } from "ioredis";
import type { NewEvent } from "../event-store.js";
import { StoreUnavailableError, type SessionRow, type Store } from "../store.js";

export interface RedisStoreOptions {
  /** Namespace for every key (default "latchkey:"); tests use their own and delete it after. */
  prefix?: string;
  /** Idle timeout: a session key expires this long after its last touch (default: only the absolute lifetime). */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

const CREATE_SESSION = `
-- KEYS: session, user set, by-seen, by-expiry. ARGV: tokenHash, ttl, lastSeenAt, expiresAt, field/value pairs...
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 1`;

const TOUCH_SESSION = `
-- KEYS: session, by-seen. ARGV: lastSeenAt, tokenHash, idleMs (0: none), prefix.
local fields = redis.call('HMGET', KEYS[1], 'expiresAt', 'userId')
if not fields[1] then return 0 end -- gone: never recreate it
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
local ttl = tonumber(fields[1]) - tonumber(ARGV[1])
local idle = tonumber(ARGV[3])
if idle > 0 and idle < ttl then ttl = idle end
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], ttl)
local userSet = ARGV[4] .. 'user-sessions:' .. fields[2]
if redis.call('PTTL', userSet) < ttl then redis.call('PEXPIRE', userSet, ttl) end
redis.call('ZADD', KEYS[2], 'XX', ARGV[1], ARGV[2])
return 1`;

const DELETE_SESSION = `
-- KEYS: session, by-seen, by-expiry. ARGV: tokenHash, prefix.
local userId = redis.call('HGET', KEYS[1], 'userId')
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if userId then redis.call('SREM', ARGV[2] .. 'user-sessions:' .. userId, ARGV[1]) end
return n`;

const DELETE_USER_SESSIONS = `
-- KEYS: user set, by-seen, by-expiry. ARGV: prefix, tokenHash to keep ('' for none).
local n = 0
for _, th in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if th ~= ARGV[2] then
    n = n + redis.call('DEL', ARGV[1] .. 'session:' .. th)
    redis.call('SREM', KEYS[1], th)
    redis.call('ZREM', KEYS[2], th)
    redis.call('ZREM', KEYS[3], th)
  end
end
return n`;

const DELETE_USER_SESSION = `
-- KEYS: user set, by-seen, by-expiry. ARGV: prefix, public session id.
for _, th in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 'session:' .. th
  if redis.call('HGET', key, 'id') == ARGV[2] then
    redis.call('DEL', key)
    redis.call('SREM', KEYS[1], th)
    redis.call('ZREM', KEYS[2], th)
    redis.call('ZREM', KEYS[3], th)
    return 1
  end
end
return 0`;

const DELETE_SESSIONS = `
-- KEYS: by-seen, by-expiry. ARGV: prefix, tokenHash... (one SCAN batch of deleteAllSessions)
local n = 0
for i = 2, #ARGV do
  local th = ARGV[i]
  local key = ARGV[1] .. 'session:' .. th
  local userId = redis.call('HGET', key, 'userId')
  n = n + redis.call('DEL', key)
  if userId then redis.call('SREM', ARGV[1] .. 'user-sessions:' .. userId, th) end
  redis.call('ZREM', KEYS[1], th)
  redis.call('ZREM', KEYS[2], th)
end
return n`;

const PRUNE_SESSIONS = `
-- KEYS: by-seen, by-expiry. ARGV: prefix, now, idleMs, limit.
local limit = tonumber(ARGV[4])
local victims, picked = {}, {}
local function collect(list)
  for _, th in ipairs(list) do
    if not picked[th] and #victims < limit then picked[th] = true; victims[#victims + 1] = th end
  end
end
collect(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, limit))
collect(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]), 'LIMIT', 0, limit))
for _, th in ipairs(victims) do
  local key = ARGV[1] .. 'session:' .. th
  local userId = redis.call('HGET', key, 'userId')
  redis.call('DEL', key)
  if userId then redis.call('SREM', ARGV[1] .. 'user-sessions:' .. userId, th) end
  redis.call('ZREM', KEYS[1], th)
  redis.call('ZREM', KEYS[2], th)
end
return #victims`;

const HIT_COUNTER = `
-- KEYS: counter. ARGV: now, windowMs, now + windowMs.
local state = redis.call('HMGET', KEYS[1], 'count', 'resetAt')
if state[1] and tonumber(state[2]) > tonumber(ARGV[1]) then
  return { redis.call('HINCRBY', KEYS[1], 'count', 1), state[2] }
end
redis.call('HSET', KEYS[1], 'count', 1, 'resetAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return { 1, ARGV[3] }`;

interface Scripts {
  createSession(...args: (string | number)[]): Promise<number>;
  touchSession(...args: (string | number)[]): Promise<number>;
  deleteSession(...args: (string | number)[]): Promise<number>;
  deleteUserSessions(...args: (string | number)[]): Promise<number>;
  deleteUserSession(...args: (string | number)[]): Promise<number>;
  deleteSessions(...args: (string | number)[]): Promise<number>;
  pruneSessions(...args: (string | number)[]): Promise<number>;
  hitCounter(...args: (string | number)[]): Promise<[number, string]>;
}

/** Redis errors that mean "not reachable right now" rather than "bad command". */
function unavailable(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  if (err.name === "ReplyError" && !/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)/.test(err.message)) return err;
  return new StoreUnavailableError(`Redis unavailable: ${err.message.slice(0, 80)}`);
}

/** An ioredis client that fails fast while disconnected and reconnects by itself for ever. */
export function createRedisClient(url: string, options: RedisStoreOptions = {}): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false, // while down, a command fails at once instead of queueing
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 3000,
    commandTimeout: options.commandTimeoutMs ?? 5000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    connectionName: "latchkey",
  });
  // Connection errors are answered per request (503) and retried; don't let them crash the process.
  client.on("error", () => {});
  return client;
}

async function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new StoreUnavailableError(`Redis unavailable: not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

/** Keys per SCAN step (a hint to Redis) in deleteAllSessions. */
const DELETE_ALL_BATCH = 500;

/** The prefix as a literal in a SCAN MATCH pattern. */
const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, "\\$&");

const field = (h: Record<string, string>, name: string) => (h[name] === undefined ? null : h[name]!);

function toSession(tokenHash: string, h: Record<string, string>): SessionRow {
  return {
    id: h.id!,
    tokenHash,
    userId: h.userId!,
    createdAt: Number(h.createdAt),
    lastSeenAt: Number(h.lastSeenAt),
    expiresAt: Number(h.expiresAt),
    userAgent: field(h, "userAgent"),
    ip: field(h, "ip"),
    // Sessions written before these fields existed were made at log-in, with a password.
    authenticatedAt: h.authenticatedAt === undefined ? Number(h.createdAt) : Number(h.authenticatedAt),
    aal: h.aal === "aal2" ? "aal2" : "aal1",
    impersonatorId: field(h, "impersonatorId"),
  };
}

export async function createRedisStore(
  sql: Store,
  redis: string | Redis,
  options: RedisStoreOptions = {},
): Promise<Store & { redis: Redis; prefix: string }> {
  const prefix = options.prefix ?? "latchkey:";
  const ownsClient = typeof redis === "string";
  const client = typeof redis === "string" ? createRedisClient(redis, options) : redis;
  try {
    await waitReady(client, (options.connectTimeoutMs ?? 3000) * 2);
  } catch (err) {
    if (ownsClient) client.disconnect();
    throw err;
  }
  const idleMs = options.idleTimeoutMs ?? 0;
  const k = {
    session: (tokenHash: string) => `${prefix}session:${tokenHash}`,
    userSessions: (userId: string) => `${prefix}user-sessions:${userId}`,
    bySeen: `${prefix}sessions-by-seen`,
    byExpiry: `${prefix}sessions-by-expiry`,
    counter: (key: string) => `${prefix}counter:${key}`,
  };

  const define = (name: keyof Scripts, numberOfKeys: number, lua: string) => {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys, lua });
  };
  define("createSession", 4, CREATE_SESSION);
  define("touchSession", 2, TOUCH_SESSION);
  define("deleteSession", 3, DELETE_SESSION);
  define("deleteUserSessions", 3, DELETE_USER_SESSIONS);
  define("deleteUserSession", 3, DELETE_USER_SESSION);
  define("deleteSessions", 2, DELETE_SESSIONS);
  define("pruneSessions", 2, PRUNE_SESSIONS);
  define("hitCounter", 1, HIT_COUNTER);
  const scripts = client as unknown as Scripts;

  /** Runs a Redis call, turning "cannot reach Redis" into StoreUnavailableError. */
  const r = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw unavailable(err);
    }
  };

  const listUserSessions = async (userId: string): Promise<SessionRow[]> => {
    const hashes = await r(() => client.smembers(k.userSessions(userId)));
    if (hashes.length === 0) return [];
    const pipeline = client.pipeline();
    for (const th of hashes) pipeline.hgetall(k.session(th));
    const results = (await r(() => pipeline.exec())) ?? [];
    const sessions: SessionRow[] = [];
    const stale: string[] = [];
    results.forEach(([err, h], i) => {
      const fields = h as Record<string, string>;
      if (!err && fields.id) sessions.push(toSession(hashes[i]!, fields));
      else if (!err) stale.push(hashes[i]!);
    });
    // Keys that expired natively leave their name in the set; tidy up as we go.
    if (stale.length > 0) await r(() => client.srem(k.userSessions(userId), ...stale));
    return sessions.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  };

  const deleteUserSessions = async (userId: string, exceptTokenHash?: string, event?: NewEvent) => {
    if (event) await sql.events.append(event);
    return r(() => scripts.deleteUserSessions(k.userSessions(userId), k.bySeen, k.byExpiry, prefix, exceptTokenHash ?? ""));
  };

  return {
    engine: `${sql.engine}+redis`,
    redis: client,
    prefix,
    // Bearer and reset tokens are durable records: they stay in SQL.
    tokens: sql.tokens,
    factors: sql.factors, // second factors are durable records too
    webhooks: sql.webhooks, // events live in SQL
    events: sql.events,

    createUser: (user, event) => sql.createUser(user, event),
    findUserByEmail: (email) => sql.findUserByEmail(email),
    findUserById: (id) => sql.findUserById(id),
    setPasswordHash: (userId, hash, now, event) => sql.setPasswordHash(userId, hash, now, event),
    recordLogin: (userId, now, event) => sql.recordLogin(userId, now, event),
    markEmailVerified: (userId, email, now, event) => sql.markEmailVerified(userId, email, now, event),
    setEmail: (userId, email, verifiedAt, now, event) => sql.setEmail(userId, email, verifiedAt, now, event),
    listUsers: (options) => sql.listUsers(options),
    setUserRole: (userId, role, now, event) => sql.setUserRole(userId, role, now, event),
    setDisabledUntil: (userId, until, now, event) => sql.setDisabledUntil(userId, until, now, event),
    async deleteUser(userId, event) {
      const result = await sql.deleteUser(userId, event);
      // The user row is gone first, so findSession already refuses these sessions even if this step fails.
      if (result === "ok") await deleteUserSessions(userId);
      return result;
    },

    async createSession(s) {
      const ttl = Math.max(1, Math.min(s.expiresAt - s.lastSeenAt, idleMs > 0 ? idleMs : Infinity));
      const fields: (string | number)[] = [
        "id", s.id, "userId", s.userId, "createdAt", s.createdAt, "lastSeenAt", s.lastSeenAt, "expiresAt", s.expiresAt,
        "authenticatedAt", s.authenticatedAt, "aal", s.aal,
      ];
      if (s.userAgent !== null) fields.push("userAgent", s.userAgent);
      if (s.ip !== null) fields.push("ip", s.ip);
      if (s.impersonatorId !== null) fields.push("impersonatorId", s.impersonatorId);
      await r(() =>
        scripts.createSession(
          k.session(s.tokenHash), k.userSessions(s.userId), k.bySeen, k.byExpiry,
          s.tokenHash, ttl, s.lastSeenAt, s.expiresAt, ...fields,
        ),
      );
    },
    async findSession(tokenHash) {
      const h = await r(() => client.hgetall(k.session(tokenHash)));
      if (!h.id) return null;
      const session = toSession(tokenHash, h);
      const user = await sql.findUserById(session.userId);
      return user ? { session, user } : null;
    },
    async touchSession(tokenHash, lastSeenAt) {
      return (await r(() => scripts.touchSession(k.session(tokenHash), k.bySeen, lastSeenAt, tokenHash, idleMs, prefix))) === 1;
    },
    async deleteSession(tokenHash, event) {
      if (event) {
        const [id, userId] = await r(() => client.hmget(k.session(tokenHash), "id", "userId"));
        if (id === null || userId === null) return; // no such session: nothing to end, nothing to record
        await sql.events.append({ ...event, userId: event.userId ?? userId, sessionId: event.sessionId ?? id });
      }
      await r(() => scripts.deleteSession(k.session(tokenHash), k.bySeen, k.byExpiry, tokenHash, prefix));
    },
    listUserSessions,
    async deleteUserSession(userId, sessionId, event) {
      if (event) {
        if (!(await listUserSessions(userId)).some((s) => s.id === sessionId)) return false;
        await sql.events.append(event);
      }
      return (await r(() => scripts.deleteUserSession(k.userSessions(userId), k.bySeen, k.byExpiry, prefix, sessionId))) === 1;
    },
    deleteUserSessions,
    async deleteAllSessions(event) {
      if (event) await sql.events.append(event);
      // SCAN in batches, each deleted by one short script (key, user set and
      // index entries together): Redis is never blocked for the whole keyspace,
      // and a session's index entries never outlive it or it them.
      const match = `${globEscape(prefix)}session:*`;
      const start = k.session("").length;
      let cursor = "0";
      let deleted = 0;
      do {
        const [nextCursor, keys] = await r(() => client.scan(cursor, "MATCH", match, "COUNT", DELETE_ALL_BATCH));
        cursor = nextCursor;
        if (keys.length > 0) {
          deleted += await r(() => scripts.deleteSessions(k.bySeen, k.byExpiry, prefix, ...keys.map((key) => key.slice(start))));
        }
      } while (cursor !== "0");
      return deleted;
    },
    async pruneSessions(now, idleTimeoutMs, limit) {
      return r(() => scripts.pruneSessions(k.bySeen, k.byExpiry, prefix, now, idleTimeoutMs, limit));
    },

    async hitCounter(key, windowMs, now) {
      const [count, resetAt] = await r(() => scripts.hitCounter(k.counter(key), now, windowMs, String(now + windowMs)));
      return { count: Number(count), resetAt: Number(resetAt) };
    },
    async peekCounter(key, now) {
      const [count, resetAt] = await r(() => client.hmget(k.counter(key), "count", "resetAt"));
      if (count === null || resetAt === null || Number(resetAt) <= now) return null;
      return { count: Number(count), resetAt: Number(resetAt) };
    },
    async deleteCounter(key) {
      await r(() => client.del(k.counter(key)));
    },
    async pruneCounters(now, limit) {
      // Counter keys carry their window as a TTL: Redis drops them itself. The SQL side may hold old ones.
      return sql.pruneCounters(now, limit);
    },

    async ping() {
      await Promise.all([sql.ping(), r(() => client.ping())]);
    },
    async close() {
      if (ownsClient) {
        await client.quit().catch(() => client.disconnect());
      }
      await sql.close();
    },
  };
}
