// Operator metrics in Prometheus's text format (prom-client), served at
// GET /metrics to holders of METRICS_TOKEN only. Without a token nothing is
// recorded and the route does not exist: `noMetrics` costs a no-op call.
//
// Every series has fixed, small label sets: the route label is the declared
// route pattern (`/sessions/:id`), never the raw path, and "unmatched" for
// anything that matched no route, so a scanner cannot grow the series.
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";

// Loaded only when metrics are on: prom-client costs tens of ms at start-up.
const loadPromClient = () => createRequire(import.meta.url)("prom-client") as typeof PromClient;

export type LoginOutcome = "success" | "failure" | "rate_limited";
export type RefusalReason = "store_unavailable" | "hasher_busy" | "internal_error";

export interface Metrics {
  readonly enabled: boolean;
  /** One answered request: its route pattern, method, status and duration since `started` (performance.now()). */
  request(route: string, method: string, status: number, started: number): void;
  /** A password check at POST /login (cookie) or POST /token/login (bearer). */
  login(kind: "cookie" | "bearer", outcome: LoginOutcome): void;
  /** A request refused by a rate limit or lockout; `limit` names which. */
  rateLimited(limit: string): void;
  /** A request answered 5xx by the error mapping, and why. */
  refused(reason: RefusalReason): void;
  /** The Prometheus text exposition of every series. */
  render(): Promise<{ contentType: string; body: string }>;
}

export const noMetrics: Metrics = {
  enabled: false,
  request() {},
  login() {},
  rateLimited() {},
  refused() {},
  render: async () => ({ contentType: "text/plain", body: "" }),
};

/** Read at scrape time: values that already live elsewhere. */
export interface MetricSources {
  /** Hashes waiting for an Argon2 slot. */
  hasherQueued(): number;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function createMetrics(sources: MetricSources): Metrics {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = loadPromClient();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "latchkey_" }); // latchkey_process_*, latchkey_nodejs_*
  const requests = new Counter({
    name: "latchkey_http_requests_total",
    help: "HTTP requests answered, by route pattern, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "latchkey_http_request_duration_seconds",
    help: "Time from the request's arrival to its answer, by route pattern and method",
    labelNames: ["route", "method"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const logins = new Counter({
    name: "latchkey_logins_total",
    help: "Login attempts by kind (cookie, bearer) and outcome (success, failure, rate_limited)",
    labelNames: ["kind", "outcome"] as const,
    registers: [registry],
  });
  const limited = new Counter({
    name: "latchkey_rate_limited_total",
    help: "Requests refused with 429, by the limit that refused them",
    labelNames: ["limit"] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: "latchkey_refusals_total",
    help: "Requests answered 5xx, by reason (store_unavailable, hasher_busy, internal_error)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "latchkey_argon2_queue_depth",
    help: "Password hashes waiting for an Argon2 slot",
    registers: [registry],
    collect() {
      this.set(sources.hasherQueued());
    },
  });

  // One bound child per label combination, looked up by one string key: the
  // hot path does a Map lookup and two additions.
  type Bound = { count: () => void; observe: (seconds: number) => void };
  const bound = new Map<string, Bound>();
  const child = (route: string, method: string, status: number): Bound => {
    const key = `${method} ${status} ${route}`;
    let c = bound.get(key);
    if (!c) {
      const counter = requests.labels(route, method, String(status));
      const histogram = duration.labels(route, method);
      c = { count: () => counter.inc(), observe: (seconds) => histogram.observe(seconds) };
      bound.set(key, c);
    }
    return c;
  };

  return {
    enabled: true,
    request(route, method, status, started) {
      const c = child(route, METHODS.has(method) ? method : "OTHER", status);
      c.count();
      c.observe((performance.now() - started) / 1000);
    },
    login(kind, outcome) {
      logins.labels(kind, outcome).inc();
    },
    rateLimited(limit) {
      limited.labels(limit).inc();
    },
    refused(reason) {
      refusals.labels(reason).inc();
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
