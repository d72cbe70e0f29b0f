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

  const requests = createRequestSeries();
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
    async render() {
      return { contentType: registry.contentType, body: requests.render() + (await registry.metrics()) };
    },
  };
}

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

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
      const i = BUCKETS.findIndex((le) => seconds <= le);
      if (i >= 0) s.buckets[i]!++;
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
      for (const h of byRoute.values()) {
        let cumulative = 0;
        BUCKETS.forEach((le, i) => {
          cumulative += h.buckets[i]!;
          hist.push(`latchkey_http_request_duration_seconds_bucket{${h.labels},le="${le}"} ${cumulative}`);
        });
        hist.push(`latchkey_http_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}`);
        hist.push(`latchkey_http_request_duration_seconds_sum{${h.labels}} ${h.sum}`);
        hist.push(`latchkey_http_request_duration_seconds_count{${h.labels}} ${h.count}`);
      }
      return `${counts.join("\n")}\n${hist.join("\n")}\n`;
    },
  };
}
