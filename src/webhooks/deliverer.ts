// The webhook deliverer: one loop per instance that drains the outbox.
// Each turn fans marked events out into deliveries, leases the due ones and
// POSTs them concurrently (claim hands out at most one per user and
// endpoint, so a user's events still arrive in order). It runs beside the
// requests, never inside one: a slow or dead receiver costs requests nothing.
//
// At least once: a delivery row goes only after a 2xx. A crash or stop
// mid-attempt leaves the row leased; when the lease runs out, whichever
// instance claims it next sends it again, with the same webhook-id.
import type { Clock } from "../clock.js";
import type { Logger } from "../log.js";
import type { WebhookDelivery, WebhookOutbox } from "../store/event-store.js";
import type { WebhookConfig } from "./config.js";
import { webhookBody, webhookHeaders } from "./sign.js";

/** Events moved into the outbox per turn, and deliveries leased per turn. */
const FAN_OUT_BATCH = 500;
const CLAIM_BATCH = 50;
/** Full-jitter exponential backoff: random in [0, min(CAP, BASE * 2^attempts)], plus FLOOR. */
export const BACKOFF = { baseMs: 1000, capMs: 3_600_000, floorMs: 500 };
/** When the store itself fails: the loop waits up to this long between tries. */
const STORE_BACKOFF_CAP_MS = 30_000;

export interface DelivererDeps {
  outbox: WebhookOutbox;
  config: WebhookConfig;
  /** Schedules retries and judges WEBHOOK_MAX_AGE (the app's clock, which tests move). */
  clock: Clock;
  logger: Logger;
}

export interface DelivererStats {
  delivered: number;
  retried: number;
  failed: number;
}

/** A lease outlives an attempt (the timeout) and the write that records it. */
export const leaseFor = (timeoutMs: number) => 2 * timeoutMs + 1000;

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF.capMs, BACKOFF.baseMs * 2 ** Math.min(attempts, 32));
  return BACKOFF.floorMs + Math.floor(random() * ceiling);
}

/** A short, secret-free description of a failed attempt: a status code or an error class, never a body. */
export function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: unknown; name?: string } };
  if (e?.name === "TimeoutError") return `timeout after ${timeoutMs} ms`;
  const code = e?.cause?.code;
  if (typeof code === "string") return `network error ${code}`;
  return `network error ${e?.cause?.name ?? e?.name ?? "unknown"}`;
}

/** The endpoint as logs and admins see it: no query string (it may hold a receiver's token). */
export const shownEndpoint = (endpoint: string) => {
  const url = new URL(endpoint);
  return `${url.origin}${url.pathname}${url.search ? "?…" : ""}`;
};

export function createDeliverer(deps: DelivererDeps) {
  const { outbox, config, clock, logger } = deps;
  const leaseMs = leaseFor(config.timeoutMs);
  const stats: DelivererStats = { delivered: 0, retried: 0, failed: 0 };
  let timer: NodeJS.Timeout | undefined;
  let turn: Promise<void> | undefined;
  let stopping: AbortController | undefined;
  let storeFailures = 0;

  /** One POST; null when the receiver acknowledged it, else why not. Undefined: abandoned by stop(). */
  async function post(d: WebhookDelivery, stop: AbortSignal): Promise<string | null | undefined> {
    const body = webhookBody(d.event);
    // The timestamp is the real send time, whatever the app clock says: receivers check it against theirs.
    const headers = webhookHeaders(config.key, d.event.id, body, Date.now());
    try {
      const res = await fetch(d.endpoint, {
        method: "POST",
        headers,
        body,
        // A redirect could send the event to another host: it is a failed attempt, not followed.
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(config.timeoutMs), stop]),
      });
      // The answer's body is not read; dropping it frees the connection.
      await res.body?.cancel().catch(() => {});
      return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
    } catch (err) {
      if (stop.aborted) return undefined;
      return describeFailure(err, config.timeoutMs);
    }
  }

  async function attempt(d: WebhookDelivery, stop: AbortSignal): Promise<void> {
    // A row for an endpoint not in this instance's WEBHOOK_URL is not sent from here, but
    // retried like a failure rather than failed at once: during a rolling change of
    // WEBHOOK_URL another instance may still have it; otherwise WEBHOOK_MAX_AGE ends it.
    const outcome = config.urls.includes(d.endpoint) ? await post(d, stop) : "endpoint no longer in WEBHOOK_URL";
    if (outcome === undefined) return; // abandoned: the lease runs out and the row is claimed again
    if (outcome === null) {
      await outbox.delivered(d.endpoint, d.event.seq);
      stats.delivered++;
      return;
    }
    const now = clock();
    const next = now + backoffMs(d.attempts);
    if (next - d.createdAt <= config.maxAgeMs) {
      await outbox.retry(d.endpoint, d.event.seq, next, outcome);
      stats.retried++;
      logger.debug({ event: "webhook.retry", endpoint: shownEndpoint(d.endpoint), eventId: d.event.id, attempts: d.attempts + 1, error: outcome, retryInMs: next - now });
      return;
    }
    await outbox.fail(d.endpoint, d.event.seq, outcome);
    stats.failed++;
    logger.warn({
      event: "webhook.failed",
      endpoint: shownEndpoint(d.endpoint),
      eventId: d.event.id,
      eventType: d.event.type,
      attempts: d.attempts + 1,
      error: outcome,
      message: "Webhook delivery gave up after WEBHOOK_MAX_AGE: see GET /admin/webhooks/failed, redeliver with `latchkey webhooks redeliver`",
    });
  }

  /** One turn; true when there may be more to do at once. */
  async function runOnce(stop: AbortSignal = new AbortController().signal): Promise<boolean> {
    const fanned = await outbox.fanOut(config.urls, clock(), FAN_OUT_BATCH);
    const claimed = await outbox.claim(clock(), leaseMs, CLAIM_BATCH);
    const results = await Promise.allSettled(claimed.map((d) => attempt(d, stop)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) throw failure.reason;
    // A full fan-out batch leaves more events; any claim may have unblocked a user's next one.
    return fanned === FAN_OUT_BATCH || claimed.length > 0;
  }

  function schedule(delayMs: number, stop: AbortController) {
    timer = setTimeout(() => {
      turn = runOnce(stop.signal).then(
        (busy) => {
          storeFailures = 0;
          return busy ? 0 : config.pollIntervalMs;
        },
        (err: Error) => {
          // The loop never ends on an error: the store may be back next time.
          storeFailures++;
          logger.warn({ event: "webhook.loop_failed", error: err.name, message: err.message });
          return Math.min(STORE_BACKOFF_CAP_MS, config.pollIntervalMs * 2 ** Math.min(storeFailures, 16));
        },
      ).then((next) => {
        if (!stop.signal.aborted) schedule(next, stop);
      });
    }, delayMs);
    timer.unref();
  }

  return {
    stats: (): DelivererStats => ({ ...stats }),
    /** One turn now, outside the loop (tests, the CLI). */
    runOnce,
    start() {
      if (stopping && !stopping.signal.aborted) return;
      stopping = new AbortController();
      schedule(0, stopping);
    },
    /**
     * Ends the loop: attempts in flight are aborted and left leased (their
     * rows are sent again once the lease runs out), and the turn's store
     * writes finish before this resolves, so the store can close after it.
     */
    async stop(): Promise<void> {
      stopping?.abort();
      clearTimeout(timer);
      await turn?.catch(() => {});
    },
  };
}

export type Deliverer = ReturnType<typeof createDeliverer>;
