// Storage for security events (the audit log) and the webhook outbox that
// delivers them, kept apart from the core Store like the token store.
// Times are epoch milliseconds.
//
// An event is written in the same transaction as the change it records: the
// mutating Store methods take an optional NewEvent for that. events.append()
// is for what changes nothing else in SQL (a failed login, a lockout) and for
// engines that cannot share a transaction (PostgreSQL+Redis writes the event
// to SQL first, then changes Redis). No password, token, hash or link ever
// goes into an event: details hold small, non-secret facts only.
import { randomBytes } from "node:crypto";

/** A fresh public event id: "evt_" and 128 random bits. */
export const newEventId = (): string => `evt_${randomBytes(16).toString("base64url")}`;

/** The columns every engine inserts an event with, in this order. */
export const EVENT_INSERT_COLUMNS = "id, at, type, user_id, actor_id, session_id, ip, user_agent, details, webhook_pending";

/** A new row's values for EVENT_INSERT_COLUMNS: a fresh id, the details as JSON, the webhook mark as given. */
export function eventInsertValues(e: NewEvent, webhookPending: boolean | number): unknown[] {
  return [
    newEventId(),
    e.at,
    e.type,
    e.userId ?? null,
    e.actorId ?? null,
    e.sessionId ?? null,
    e.ip ?? null,
    e.userAgent ?? null,
    JSON.stringify(e.details ?? {}),
    webhookPending,
  ];
}

/** Small, non-secret facts about an event (a role, a count, how it was done). */
export type EventDetails = Record<string, string | number | boolean | null>;

export interface NewEvent {
  type: string;
  at: number;
  /** The account the event is about (null: none, e.g. a failed login for an unknown email, or every account). */
  userId?: string | null | undefined;
  /** Who acted, when not the user themself: an admin's id. */
  actorId?: string | null | undefined;
  /** Public id of the session concerned (never its token). */
  sessionId?: string | null | undefined;
  ip?: string | null | undefined;
  userAgent?: string | null | undefined;
  details?: EventDetails | undefined;
}

export interface EventRow {
  /** Commit order within this database: the cursor and the per-user webhook order. */
  seq: number;
  /** Public, stable id ("evt_..."): the webhook-id of every delivery of this event. */
  id: string;
  type: string;
  at: number;
  userId: string | null;
  actorId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: EventDetails;
}

export interface EventFilter {
  userId?: string | undefined;
  /** Exact types; any of them. */
  types?: string[] | undefined;
  /** Only events with exactly this user agent. */
  userAgent?: string | undefined;
  /** at >= since */
  since?: number | undefined;
  /** at < until */
  until?: number | undefined;
  /** From a previous page's nextCursor (the decimal seq of its last event). */
  cursor?: string | undefined;
  limit: number;
}

export interface EventPage {
  /** Newest first. */
  events: EventRow[];
  nextCursor: string | null;
}

export interface EventStore {
  /** Records an event on its own (what changes nothing else in SQL). */
  append(event: NewEvent): Promise<void>;
  /** Newest first, filtered, cursor-paginated. */
  list(filter: EventFilter): Promise<EventPage>;
  /** Deletes at most `limit` events older than `before`; returns how many. */
  prune(before: number, limit: number): Promise<number>;
}

/** One event on its way to one endpoint. */
export interface WebhookDelivery {
  endpoint: string;
  event: EventRow;
  /** Attempts made so far. */
  attempts: number;
  /** When it entered the outbox (or was redelivered): WEBHOOK_MAX_AGE counts from here. */
  createdAt: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export interface WebhookOutbox {
  /**
   * Fans out up to `limit` events marked for webhooks (oldest first) into one
   * pending delivery per endpoint, and unmarks them, in one transaction.
   * Returns how many events. Safe to run on many instances at once.
   */
  fanOut(endpoints: string[], now: number, limit: number): Promise<number>;
  /**
   * Leases up to `limit` deliveries that are due: pending, next attempt
   * reached, not leased by anyone (or the lease ran out), and the oldest
   * pending delivery of their (endpoint, user), so a user's events arrive in
   * order. Each is leased until now + leaseMs; one instance at a time holds one.
   */
  claim(now: number, leaseMs: number, limit: number): Promise<WebhookDelivery[]>;
  /** The receiver acknowledged it: the delivery row goes. */
  delivered(endpoint: string, seq: number): Promise<void>;
  /** It failed; try again at nextAttemptAt (lease released). */
  retry(endpoint: string, seq: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Out of time (WEBHOOK_MAX_AGE): kept as failed, no longer blocks the user's later events. */
  fail(endpoint: string, seq: number, error: string): Promise<void>;
  /** Failed deliveries, oldest first. */
  listFailed(options: { limit: number; cursor?: string | undefined }): Promise<{ deliveries: WebhookDelivery[]; nextCursor: string | null }>;
  /** Puts failed deliveries back to pending from now (one event's, or all); returns how many. */
  redeliver(target: { eventId: string } | "all", now: number): Promise<number>;
  /** For metrics: events not yet fanned out plus pending deliveries, and failed deliveries. */
  backlog(): Promise<{ pending: number; failed: number }>;
}
