// The webhook outbox on SQLite (tables of migration 4). One process writes
// at a time (the database's write lock), so IMMEDIATE transactions are all
// the exclusion fanOut and claim need, across processes on one file too.
// Each first looks without the lock (a WAL read never waits): an idle
// deliverer polling every second then never takes the write lock, which
// requests' writes (and the CLI) would otherwise queue behind.
import type Database from "better-sqlite3";
import type { WebhookDelivery, WebhookOutbox } from "../event-store.js";
import { EVENT_COLUMNS, toEvent, type EventRecord } from "./events.js";
import { decodeDeliveryCursor, encodeDeliveryCursor, InvalidCursorError } from "../outbox-cursor.js";

type DeliveryRecord = EventRecord & {
  endpoint: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  last_error: string | null;
};

function toDelivery(r: DeliveryRecord): WebhookDelivery {
  return { endpoint: r.endpoint, event: toEvent(r), attempts: r.attempts, createdAt: r.created_at, nextAttemptAt: r.next_attempt_at, lastError: r.last_error };
}

const DELIVERY_COLUMNS = `d.endpoint, d.attempts, d.created_at, d.next_attempt_at, d.last_error,
  ${EVENT_COLUMNS.split(", ").map((c) => `e.${c}`).join(", ")}`;

export function createSqliteOutbox(db: Database.Database): WebhookOutbox {
  const marked = db.prepare("SELECT seq, user_id FROM events WHERE webhook_pending = 1 ORDER BY seq LIMIT ?");
  const anyMarked = db.prepare("SELECT 1 FROM events WHERE webhook_pending = 1 LIMIT 1");
  const insertDelivery = db.prepare(
    `INSERT INTO webhook_deliveries (endpoint, event_seq, user_id, created_at, next_attempt_at)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  );
  const unmark = db.prepare("UPDATE events SET webhook_pending = 0 WHERE seq = ?");
  // Due, unleased, and the oldest pending row of its (endpoint, user): `IS`
  // puts the events without a user in one group of their own.
  const due = db.prepare(
    `SELECT ${DELIVERY_COLUMNS}
       FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
      WHERE d.status = 'pending' AND d.next_attempt_at <= @now AND d.locked_until <= @now
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o
                         WHERE o.status = 'pending' AND o.endpoint = d.endpoint
                           AND o.user_id IS d.user_id AND o.event_seq < d.event_seq)
      ORDER BY d.event_seq LIMIT @limit`,
  );
  const lease = db.prepare("UPDATE webhook_deliveries SET locked_until = ? WHERE endpoint = ? AND event_seq = ?");
  const remove = db.prepare("DELETE FROM webhook_deliveries WHERE endpoint = ? AND event_seq = ?");
  const reschedule = db.prepare(
    `UPDATE webhook_deliveries SET next_attempt_at = ?, attempts = attempts + 1, last_error = ?, locked_until = 0
      WHERE endpoint = ? AND event_seq = ? AND status = 'pending'`,
  );
  const markFailed = db.prepare(
    `UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?, locked_until = 0
      WHERE endpoint = ? AND event_seq = ? AND status = 'pending'`,
  );
  const failedPage = db.prepare(
    `SELECT ${DELIVERY_COLUMNS}
       FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
      WHERE d.status = 'failed' AND (d.event_seq > @seq OR (d.event_seq = @seq AND d.endpoint > @endpoint))
      ORDER BY d.event_seq, d.endpoint LIMIT @limit`,
  );
  const back = `SET status = 'pending', attempts = 0, created_at = @now, next_attempt_at = @now, locked_until = 0, last_error = NULL`;
  const redeliverOne = db.prepare(
    `UPDATE webhook_deliveries ${back} WHERE status = 'failed' AND event_seq = (SELECT seq FROM events WHERE id = @eventId)`,
  );
  const redeliverAll = db.prepare(`UPDATE webhook_deliveries ${back} WHERE status = 'failed'`);
  const counts = db.prepare(
    `SELECT (SELECT count(*) FROM events WHERE webhook_pending = 1)
          + (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
            (SELECT count(*) FROM webhook_deliveries WHERE status = 'failed') AS failed`,
  );

  return {
    async fanOut(endpoints, now, limit) {
      // No endpoint: leave the marks, so events wait for one rather than being dropped.
      if (endpoints.length === 0 || !anyMarked.get()) return 0;
      return db
        .transaction(() => {
          const events = marked.all(limit) as { seq: number; user_id: string | null }[];
          for (const e of events) {
            for (const endpoint of endpoints) insertDelivery.run(endpoint, e.seq, e.user_id, now, now);
            unmark.run(e.seq);
          }
          return events.length;
        })
        .immediate();
    },
    async claim(now, leaseMs, limit) {
      if (due.all({ now, limit: 1 }).length === 0) return [];
      return db
        .transaction(() => {
          const rows = due.all({ now, limit }) as DeliveryRecord[];
          for (const r of rows) lease.run(now + leaseMs, r.endpoint, r.seq);
          return rows.map(toDelivery);
        })
        .immediate();
    },
    async delivered(endpoint, seq) {
      remove.run(endpoint, seq);
    },
    async retry(endpoint, seq, nextAttemptAt, error) {
      reschedule.run(nextAttemptAt, error, endpoint, seq);
    },
    async fail(endpoint, seq, error) {
      markFailed.run(error, endpoint, seq);
    },
    async listFailed({ limit, cursor }) {
      const from = cursor === undefined ? { seq: 0, endpoint: "" } : decodeDeliveryCursor(cursor);
      if (!from) throw new InvalidCursorError();
      const rows = failedPage.all({ ...from, limit: limit + 1 }) as DeliveryRecord[];
      const deliveries = rows.slice(0, limit).map(toDelivery);
      const last = deliveries[deliveries.length - 1];
      return { deliveries, nextCursor: rows.length > limit && last ? encodeDeliveryCursor({ seq: last.event.seq, endpoint: last.endpoint }) : null };
    },
    async redeliver(target, now) {
      return target === "all" ? redeliverAll.run({ now }).changes : redeliverOne.run({ now, eventId: target.eventId }).changes;
    },
    async backlog() {
      return counts.get() as { pending: number; failed: number };
    },
  };
}
