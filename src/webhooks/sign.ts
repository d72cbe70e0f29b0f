// Standard Webhooks signatures (https://www.standardwebhooks.com): what a
// receiver's `new Webhook(secret).verify(body, headers)` accepts. node:crypto
// only, so webhooks add no runtime dependency.
import { createHmac, type KeyObject } from "node:crypto";
import { iso } from "../auth/users.js";
import { toPublicEvent } from "../events.js";
import type { EventRow } from "../store/event-store.js";

/** The JSON body of every delivery of `event` (the same bytes each time, up to the timestamp header). */
export function webhookBody(event: EventRow): string {
  return JSON.stringify({ type: event.type, timestamp: iso(event.at), data: toPublicEvent(event) });
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`: the spec's symmetric scheme. */
export function sign(key: KeyObject, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The three headers of one attempt; webhook-id stays the event's id on every retry, so receivers can drop duplicates. */
export function webhookHeaders(key: KeyObject, id: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": sign(key, id, timestamp, body),
  };
}
