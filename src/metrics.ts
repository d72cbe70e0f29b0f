// Operator metrics in Prometheus's text format (prom-client), served at
// GET /metrics to holders of METRICS_TOKEN only. Without a token nothing is
// recorded and the route does not exist: `noMetrics` costs a no-op call.
//
// Every series has fixed, small label sets: the route label is the declared
// route pattern (`/sessions/:id`), never the raw path, and "unmatched" for
// anything that matched no route, so a scanner cannot grow the series.
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import { requireOptional } from "./optional-import.js";

// An optional peer dependency, loaded only when metrics are on (it also costs
// tens of ms at start-up); without it METRICS_TOKEN names the package to install.
const loadPromClient = () =>
  requireOptional("prom-client", "METRICS_TOKEN is set", () => createRequire(import.meta.url)("prom-client") as typeof PromClient);

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
  /** The series of one Store method (see store/measured.ts), looked up once when the store is wrapped. */
  storeOperation(operation: string): StoreOperationSeries;
  /** The Prometheus text exposition of every series. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface StoreOperationSeries {
  /** One call that settled: its duration since `started` (performance.now()), and whether it counts as an error. */
  record(started: number, failed: boolean): void;
}

const noStoreSeries: StoreOperationSeries = { record() {} };

export const noMetrics: Metrics = {
  enabled: false,
  request() {},
  login() {},
  rateLimited() {},
  refused() {},
  storeOperation: () => noStoreSeries,
  render: async () => ({ contentType: "text/plain", body: "" }),
};

/** Read at scrape time: values that already live elsewhere. */
export interface MetricSources {
  /** Hashes waiting for an Argon2 slot. */
  hasherQueued(): number;
  /** The SQLite engine's session cache (absent on engines without one): lookups since start. */
  sessionCache?: () => { hits: number; misses: number };
  /** Webhook deliveries waiting to be sent and those that gave up; a rejection leaves the series out of that scrape. */
  webhookBacklog?: () => Promise<{ pending: number; failed: number }>;
}

/** The engine's session-cache counts if it keeps a cache (SQLite's sessionCacheStats()); other engines have none. */
export function sessionCacheSource(store: object): MetricSources["sessionCache"] {
  const engine = store as { sessionCacheStats?: () => { hits: number; misses: number } };
  return typeof engine.sessionCacheStats === "function" ? () => engine.sessionCacheStats!() : undefined;
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function createMetrics(sources: MetricSources): Metrics {
  const { Counter, Gauge, Registry, collectDefaultMetrics } = loadPromClient();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "latchkey_" }); // latchkey_process_*, latchkey_nodejs_*
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
  const { webhookBacklog } = sources;
  if (webhookBacklog) {
    new Gauge({
      name: "latchkey_webhook_backlog",
      help: "Webhook deliveries by state: pending (waiting to be sent or retried), failed (gave up)",
      labelNames: ["state"] as const,
      registers: [registry],
      async collect() {
        try {
          const { pending, failed } = await webhookBacklog();
          this.labels("pending").set(pending);
          this.labels("failed").set(failed);
        } catch {
          // The store is down, say: the rest of the scrape is what the operator needs
          // then, so this gauge is left out (absent, not a stale or zero value).
          this.reset();
        }
      },
    });
  }

  const requests = createRequestSeries();
  const storeOperations = createStoreSeries();
  const { sessionCache } = sources;
  return {
    enabled: true,
    request(route, method, status, started) {
      requests.observe(route, METHODS.has(method) ? method : "OTHER", status, (performance.now() - started) / 1000);
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
    storeOperation: storeOperations.series,
    async render() {
      const plain = requests.render() + storeOperations.render() + (sessionCache ? renderSessionCache(sessionCache()) : "");
      return { contentType: registry.contentType, body: plain + (await registry.metrics()) };
    },
  };
}

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
// Store calls start lower: a cached findSession or a SQLite read takes tens of microseconds.
const STORE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The index of the first bucket holding `seconds`, or `bounds.length` (only +Inf holds it). */
function bucketOf(bounds: readonly number[], seconds: number): number {
  let i = 0;
  while (i < bounds.length && seconds > bounds[i]!) i++;
  return i;
}

/** One histogram's _bucket (cumulative), _sum and _count lines; `counts` holds one slot per bound (not cumulative). */
function histogramLines(out: string[], name: string, labels: string, bounds: readonly number[], counts: readonly number[], count: number, sum: number) {
  let cumulative = 0;
  bounds.forEach((le, i) => {
    cumulative += counts[i]!;
    out.push(`${name}_bucket{${labels},le="${le}"} ${cumulative}`);
  });
  out.push(`${name}_bucket{${labels},le="+Inf"} ${count}`);
  out.push(`${name}_sum{${labels}} ${sum}`);
  out.push(`${name}_count{${labels}} ${count}`);
}

/**
 * latchkey_http_requests_total and latchkey_http_request_duration_seconds,
 * kept as plain numbers and written out at scrape time: every request adds
 * to them, and prom-client's labelled series re-hash their labels on each
 * call (about 2 us a request on a cached GET /me; this is a Map lookup).
 */
function createRequestSeries() {
  type Series = { route: string; method: string; status: number; count: number; sum: number; buckets: number[] };
  const series = new Map<string, Series>();
  const label = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

  return {
    observe(route: string, method: string, status: number, seconds: number) {
      const key = `${method} ${status} ${route}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = { route, method, status, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }));
      s.count++;
      s.sum += seconds;
      const i = bucketOf(BUCKETS, seconds);
      if (i < BUCKETS.length) s.buckets[i]!++;
    },
    render(): string {
      const counts = ["# HELP latchkey_http_requests_total HTTP requests answered, by route pattern, method and status", "# TYPE latchkey_http_requests_total counter"];
      const hist = ["# HELP latchkey_http_request_duration_seconds Time from the request's arrival to its answer, by route pattern and method", "# TYPE latchkey_http_request_duration_seconds histogram"];
      // The histogram is per route and method: statuses of one pair are summed.
      const byRoute = new Map<string, { labels: string; count: number; sum: number; buckets: number[] }>();
      for (const s of series.values()) {
        const labels = `route="${label(s.route)}",method="${s.method}"`;
        counts.push(`latchkey_http_requests_total{${labels},status="${s.status}"} ${s.count}`);
        let h = byRoute.get(labels);
        if (!h) byRoute.set(labels, (h = { labels, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }));
        h.count += s.count;
        h.sum += s.sum;
        s.buckets.forEach((n, i) => (h!.buckets[i]! += n));
      }
      for (const h of byRoute.values()) histogramLines(hist, "latchkey_http_request_duration_seconds", h.labels, BUCKETS, h.buckets, h.count, h.sum);
      return `${counts.join("\n")}\n${hist.join("\n")}\n`;
    },
  };
}

/**
 * latchkey_store_operation_duration_seconds and latchkey_store_errors_total,
 * plain numbers like the request series: findSession is timed on every
 * authenticated request. Each operation's series object is created once, when
 * the store is wrapped, so recording is two additions and a short bucket scan.
 * Operations never called are left out of the exposition.
 */
function createStoreSeries() {
  type Series = { operation: string; count: number; sum: number; errors: number; buckets: number[] };
  const all = new Map<string, Series>();

  return {
    series(operation: string): StoreOperationSeries {
      let s = all.get(operation);
      if (!s) all.set(operation, (s = { operation, count: 0, sum: 0, errors: 0, buckets: STORE_BUCKETS.map(() => 0) }));
      const series = s;
      return {
        record(started, failed) {
          const seconds = (performance.now() - started) / 1000;
          series.count++;
          series.sum += seconds;
          if (failed) series.errors++;
          const i = bucketOf(STORE_BUCKETS, seconds);
          if (i < STORE_BUCKETS.length) series.buckets[i]!++;
        },
      };
    },
    render(): string {
      const errors = ["# HELP latchkey_store_errors_total Store calls that failed (the database unavailable, or any other rejection), by operation", "# TYPE latchkey_store_errors_total counter"];
      const hist = ["# HELP latchkey_store_operation_duration_seconds Time a Store call took, failed ones included, by operation", "# TYPE latchkey_store_operation_duration_seconds histogram"];
      for (const s of all.values()) {
        if (s.count === 0) continue;
        const labels = `operation="${s.operation}"`;
        errors.push(`latchkey_store_errors_total{${labels}} ${s.errors}`);
        histogramLines(hist, "latchkey_store_operation_duration_seconds", labels, STORE_BUCKETS, s.buckets, s.count, s.sum);
      }
      return `${errors.join("\n")}\n${hist.join("\n")}\n`;
    },
  };
}

function renderSessionCache({ hits, misses }: { hits: number; misses: number }): string {
  return [
    "# HELP latchkey_session_cache_lookups_total Session lookups by the SQLite engine's in-process cache: answered from it (hit) or from the database (miss)",
    "# TYPE latchkey_session_cache_lookups_total counter",
    `latchkey_session_cache_lookups_total{result="hit"} ${hits}`,
    `latchkey_session_cache_lookups_total{result="miss"} ${misses}`,
    "",
  ].join("\n");
}
