// EventStore on PostgreSQL (migration 4). `insertEvent` takes the client of
// the caller's transaction, so the change and its event commit together.
import type pg from "pg";
import { EVENT_INSERT_COLUMNS, eventInsertValues, type EventDetails, type EventRow, type EventStore, type NewEvent } from "../event-store.js";
import type { Connection } from "./connection.js";

export interface EventRecord {
  seq: string;
  id: string;
  at: string;
  type: string;
  user_id: string | null;
  actor_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: EventDetails;
}

export const EVENT_COLUMNS = "seq, id, at, type, user_id, actor_id, session_id, ip, user_agent, details";

export const toEvent = (r: EventRecord): EventRow => ({
  seq: Number(r.seq),
  id: r.id,
  type: r.type,
  at: Number(r.at),
  userId: r.user_id,
  actorId: r.actor_id,
  sessionId: r.session_id,
  ip: r.ip,
  userAgent: r.user_agent,
  details: r.details,
});

/** Writes the event with the client of the caller's transaction. */
export type InsertEvent = (client: pg.PoolClient, event: NewEvent) => Promise<void>;

export function createPostgresEventStore(db: Connection, options: { webhookEvents: boolean }): EventStore & { insert: InsertEvent } {
  const INSERT = {
    name: "latchkey.insert_event",
    text: `INSERT INTO events (${EVENT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  };
  const values = (e: NewEvent) => eventInsertValues(e, options.webhookEvents);
  const insert: InsertEvent = async (client, e) => {
    await client.query({ ...INSERT, values: values(e) });
  };

  return {
    insert,
    async append(event) {
      await db.query(INSERT, values(event));
    },
    async list({ userId, types, userAgent, since, until, cursor, limit }) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (clause: (n: string) => string, value: unknown) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (cursor !== undefined) add((n) => `seq < ${n}`, cursor);
      if (userId !== undefined) add((n) => `user_id = ${n}`, userId);
      if (types && types.length > 0) add((n) => `type = ANY(${n}::text[])`, types);
      if (userAgent !== undefined) add((n) => `user_agent = ${n}`, userAgent);
      if (since !== undefined) add((n) => `at >= ${n}`, since);
      if (until !== undefined) add((n) => `at < ${n}`, until);
      params.push(limit + 1);
      const { rows } = await db.query<EventRecord>(
        `SELECT ${EVENT_COLUMNS} FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
          ORDER BY seq DESC LIMIT $${params.length}`,
        params,
      );
      const events = rows.slice(0, limit).map(toEvent);
      return { events, nextCursor: rows.length > limit ? String(events[events.length - 1]!.seq) : null };
    },
    async prune(before, limit) {
      const r = await db.query("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < $1 ORDER BY seq LIMIT $2)", [before, limit]);
      return r.rowCount ?? 0;
    },
  };
}
