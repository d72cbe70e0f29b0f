// EventStore on the SQLite engine (migration 4). `insert` is synchronous so
// the store's write methods can call it inside their own transaction: the
// change and its event commit together or not at all.
import type Database from "better-sqlite3";
import { EVENT_INSERT_COLUMNS, eventInsertValues, type EventDetails, type EventRow, type EventStore, type NewEvent } from "../event-store.js";

export interface EventRecord {
  seq: number;
  id: string;
  at: number;
  type: string;
  user_id: string | null;
  actor_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string;
}

export const EVENT_COLUMNS = "seq, id, at, type, user_id, actor_id, session_id, ip, user_agent, details";

export const toEvent = (r: EventRecord): EventRow => ({
  seq: r.seq,
  id: r.id,
  type: r.type,
  at: r.at,
  userId: r.user_id,
  actorId: r.actor_id,
  sessionId: r.session_id,
  ip: r.ip,
  userAgent: r.user_agent,
  details: JSON.parse(r.details) as EventDetails,
});

export interface SqliteEvents extends EventStore {
  /** Writes the event in the caller's transaction (or on its own). */
  insert(event: NewEvent): void;
}

export function createSqliteEventStore(db: Database.Database, options: { webhookEvents: boolean }): SqliteEvents {
  const insertEvent = db.prepare(`INSERT INTO events (${EVENT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const pruneOld = db.prepare("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < ? ORDER BY seq LIMIT ?)");
  const pending = options.webhookEvents ? 1 : 0;

  const insert = (e: NewEvent): void => void insertEvent.run(...eventInsertValues(e, pending));

  return {
    insert,
    async append(event) {
      insert(event);
    },
    async list({ userId, types, userAgent, since, until, cursor, limit }) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (cursor !== undefined) where.push("seq < ?"), params.push(Number(cursor));
      if (userId !== undefined) where.push("user_id = ?"), params.push(userId);
      if (types && types.length > 0) where.push(`type IN (${types.map(() => "?").join(", ")})`), params.push(...types);
      if (userAgent !== undefined) where.push("user_agent = ?"), params.push(userAgent);
      if (since !== undefined) where.push("at >= ?"), params.push(since);
      if (until !== undefined) where.push("at < ?"), params.push(until);
      const sql = `SELECT ${EVENT_COLUMNS} FROM events
        ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...params, limit + 1) as EventRecord[];
      const events = rows.slice(0, limit).map(toEvent);
      return { events, nextCursor: rows.length > limit ? String(events[events.length - 1]!.seq) : null };
    },
    async prune(before, limit) {
      return pruneOld.run(before, limit).changes;
    },
  };
}
