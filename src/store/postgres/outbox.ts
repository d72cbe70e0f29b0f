// The webhook outbox on PostgreSQL (tables of migration 4), for many
// instances on one database: claim leases rows with FOR UPDATE SKIP LOCKED,
// so concurrent claims never return the same row and never wait on each
// other; fanOut runs on one instance at a time (an advisory lock), so events
// enter the outbox in seq order and a user's later event cannot overtake an
// earlier one that another instance is still fanning out.
import type { WebhookDelivery, WebhookOutbox } from "../event-store.js";
import { decodeDeliveryCursor, encodeDeliveryCursor, InvalidCursorError } from "../outbox-cursor.js";
import type { Connection } from "./connection.js";
import { EVENT_COLUMNS as EVENT_SELECT, toEvent, type EventRecord } from "./events.js";

// pg returns bigint as a string; seq and epoch milliseconds stay below 2^53.
type DeliveryRecord = EventRecord & {
  endpoint: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string;
  last_error: string | null;
};

function toDelivery(r: DeliveryRecord): WebhookDelivery {
  return {
    endpoint: r.endpoint,
    event: toEvent(r),
    attempts: r.attempts,
    createdAt: Number(r.created_at),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error,
  };
}

/** The event's columns (events.ts), from the `e` alias. */
const EVENT_COLUMNS = EVENT_SELECT.split(", ").map((c) => `e.${c}`).join(", ");

export function createPostgresOutbox(db: Connection): WebhookOutbox {
  const { query } = db;
  return {
    async fanOut(endpoints, now, limit) {
      // No endpoint: leave the marks, so events wait for one rather than being dropped.
      if (endpoints.length === 0) return 0;
      return db.transaction(async (client) => {
        // Per schema; another instance fanning out right now has it: its batch comes first, ours next tick.
        const { rows: lock } = await client.query<{ ok: boolean }>(
          "SELECT pg_try_advisory_xact_lock(hashtext('latchkey.webhooks.fan_out:' || current_schema())) AS ok",
        );
        if (!lock[0]!.ok) return 0;
        const { rowCount } = await client.query(
          `WITH picked AS (
             SELECT seq, user_id FROM events WHERE webhook_pending ORDER BY seq LIMIT $3
           ), fanned AS (
             INSERT INTO webhook_deliveries (endpoint, event_seq, user_id, created_at, next_attempt_at)
             SELECT endpoint, p.seq, p.user_id, $2::bigint, $2::bigint FROM picked p CROSS JOIN unnest($1::text[]) AS endpoint
             ON CONFLICT DO NOTHING
           )
           UPDATE events SET webhook_pending = false WHERE seq IN (SELECT seq FROM picked)`,
          [endpoints, now, limit],
        );
        return rowCount ?? 0;
      });
    },

    async claim(now, leaseMs, limit) {
      return db.transaction(async (client) => {
        // SKIP LOCKED: a row another instance is claiming this instant is
        // not waited for, and not returned here. The NOT EXISTS sees that
        // row as pending, so the same user's next row is not taken either.
        const { rows } = await client.query<DeliveryRecord>(
          `WITH due AS (
             SELECT d.endpoint, d.event_seq FROM webhook_deliveries d
              WHERE d.status = 'pending' AND d.next_attempt_at <= $1::bigint AND d.locked_until <= $1::bigint
                AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o
                                 WHERE o.status = 'pending' AND o.endpoint = d.endpoint
                                   AND o.user_id IS NOT DISTINCT FROM d.user_id AND o.event_seq < d.event_seq)
              ORDER BY d.event_seq LIMIT $3
              FOR UPDATE SKIP LOCKED
           ), leased AS (
             UPDATE webhook_deliveries w SET locked_until = $1::bigint + $2::bigint
               FROM due WHERE w.endpoint = due.endpoint AND w.event_seq = due.event_seq
             RETURNING w.endpoint, w.event_seq, w.attempts, w.created_at, w.next_attempt_at, w.last_error
           )
           SELECT l.endpoint, l.attempts, l.created_at, l.next_attempt_at, l.last_error, ${EVENT_COLUMNS} FROM leased l JOIN events e ON e.seq = l.event_seq ORDER BY l.event_seq`,
          [now, leaseMs, limit],
        );
        return rows.map(toDelivery);
      });
    },

    async delivered(endpoint, seq) {
      await query("DELETE FROM webhook_deliveries WHERE endpoint = $1 AND event_seq = $2", [endpoint, seq]);
    },
    async retry(endpoint, seq, nextAttemptAt, error) {
      await query(
        `UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = attempts + 1, last_error = $2, locked_until = 0
          WHERE endpoint = $3 AND event_seq = $4 AND status = 'pending'`,
        [nextAttemptAt, error, endpoint, seq],
      );
    },
    async fail(endpoint, seq, error) {
      await query(
        `UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_error = $1, locked_until = 0
          WHERE endpoint = $2 AND event_seq = $3 AND status = 'pending'`,
        [error, endpoint, seq],
      );
    },
    async listFailed({ limit, cursor }) {
      const from = cursor === undefined ? { seq: 0, endpoint: "" } : decodeDeliveryCursor(cursor);
      if (!from) throw new InvalidCursorError();
      const { rows } = await query<DeliveryRecord>(
        `SELECT d.endpoint, d.attempts, d.created_at, d.next_attempt_at, d.last_error, ${EVENT_COLUMNS}
           FROM webhook_deliveries d JOIN events e ON e.seq = d.event_seq
          WHERE d.status = 'failed' AND (d.event_seq, d.endpoint) > ($1::bigint, $2::text)
          ORDER BY d.event_seq, d.endpoint LIMIT $3`,
        [from.seq, from.endpoint, limit + 1],
      );
      const deliveries = rows.slice(0, limit).map(toDelivery);
      const last = deliveries[deliveries.length - 1];
      return { deliveries, nextCursor: rows.length > limit && last ? encodeDeliveryCursor({ seq: last.event.seq, endpoint: last.endpoint }) : null };
    },
    async redeliver(target, now) {
      const back = "SET status = 'pending', attempts = 0, created_at = $1, next_attempt_at = $1, locked_until = 0, last_error = NULL";
      const r =
        target === "all"
          ? await query(`UPDATE webhook_deliveries ${back} WHERE status = 'failed'`, [now])
          : await query(`UPDATE webhook_deliveries ${back} WHERE status = 'failed' AND event_seq = (SELECT seq FROM events WHERE id = $2)`, [now, target.eventId]);
      return r.rowCount ?? 0;
    },
    async backlog() {
      const { rows } = await query<{ pending: string; failed: string }>(
        `SELECT (SELECT count(*) FROM events WHERE webhook_pending)
              + (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
                (SELECT count(*) FROM webhook_deliveries WHERE status = 'failed') AS failed`,
      );
      return { pending: Number(rows[0]!.pending), failed: Number(rows[0]!.failed) };
    },
  };
}
