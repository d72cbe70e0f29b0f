// `npm run bench`: Latchkey side by side with the ceiling (bare node:http +
// Map) and the usual alternatives, in one run, on this machine. Each contender
// is its own process on loopback, pinned to core 0 when `taskset` exists; this
// process (the autocannon load generator) pins itself to core 1.
// Writes bench/results/latest.md and latest.svg. Knobs (environment):
//   BENCH_ROUNDS=3 (each row shows its best round; ratios are the median of the rounds' own ratios)  BENCH_DURATION=3  BENCH_WARMUP=1  BENCH_CONNECTIONS=32  BENCH_LOGIN_CONNECTIONS=8
//   BENCH_BIG_SESSIONS=1000000  BENCH_TOKENS=1000  BENCH_ONLY=<regex over "contender scenario">
//   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test  BENCH_REDIS_URL=redis://127.0.0.1:6379
//   BENCH_OUT=bench/results/latest
//   BENCH_BASELINE=<another checkout, e.g. a `git worktree` of the previous main>: each Latchkey row also runs from
//   that checkout's bench/contenders/latchkey.ts, right after this one in every round (A and B interleaved), and an
//   A/B table gives this checkout ÷ the baseline, paired by round
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import type { ReadyInfo } from "./contenders/protocol.js";
import { renderChart } from "./chart.js";

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const DURATION = Number(env.BENCH_DURATION ?? 3);
const WARMUP = Number(env.BENCH_WARMUP ?? 1);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 32);
const LOGIN_CONNECTIONS = Number(env.BENCH_LOGIN_CONNECTIONS ?? 8);
const BIG = Number(env.BENCH_BIG_SESSIONS ?? 1_000_000);
const TOKENS = Number(env.BENCH_TOKENS ?? 1000);
const ONLY = env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY, "i") : undefined;
const PG_URL = env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const OUT = env.BENCH_OUT ?? join(here, "results", "latest");
const BASELINE = env.BENCH_BASELINE;
const BASELINE_TAG = " [baseline]";

const work = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
const hasTaskset = (() => {
  try {
    execFileSync("taskset", ["-V"], { stdio: "ignore" });
    return cpus().length >= 2;
  } catch {
    return false;
  }
})();
if (hasTaskset) execFileSync("taskset", ["-a", "-cp", "1", String(process.pid)], { stdio: "ignore" });

// ---------------------------------------------------------------- processes

interface Contender {
  proc: ChildProcess;
  info: ReadyInfo;
  stop(): Promise<void>;
}

let started = 0;
const benchSecret = randomBytes(32).toString("base64");

// The login and cycle scenarios log one account in thousands of times a minute from one
// address: exactly what the brute-force limits exist to stop. They are lifted here so the
// rows measure the login path's cost, not the 429 (the limits' own cost, a few counter
// writes per attempt, is still paid).
const LIFTED_LIMITS = {
  LOGIN_IP_LIMIT: "1000000000",
  LOGIN_EMAIL_LIMIT: "1000000000",
  SIGNUP_IP_LIMIT: "1000000000",
  LOCKOUT_THRESHOLD: "1000000000",
  LOCKOUT_ACCOUNT_THRESHOLD: "1000000000",
};

/** Starts a contender script pinned to core 0 and waits for its BENCH_READY line. */
async function start(script: string, extraEnv: Record<string, string>, timeoutMs = 300_000): Promise<Contender> {
  const readyFile = join(work, `ready-${++started}.json`);
  const argv = [process.execPath, "--import", "tsx", isAbsolute(script) ? script : join(here, "contenders", script)];
  const [cmd, ...args] = hasTaskset ? ["taskset", "-c", "0", ...argv] : argv;
  const proc = spawn(cmd!, args, {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
    // Production mode (as deployed): secure cookie names, HSTS, and a signing key it insists on.
    env: { ...env, NODE_ENV: "production", JWT_SECRET: env.JWT_SECRET ?? benchSecret, PORT: "0", HOST: "127.0.0.1", BENCH_DIR: work, BENCH_READY_FILE: readyFile, BENCH_DURATION: String(DURATION), ...LIFTED_LIMITS, ...extraEnv },
  });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const info = await new Promise<ReadyInfo>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`${script}: not ready after ${timeoutMs} ms`)), timeoutMs);
    proc.stdio[3]!.on("data", (d) => {
      buf += d;
      if (buf.includes("BENCH_READY\n")) {
        clearTimeout(timer);
        resolve(JSON.parse(readFileSync(readyFile, "utf8")) as ReadyInfo);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      const lines = stderr.trim().split("\n");
      const reason = lines.find((l) => /Error\b/.test(l) && !/^\s+at /.test(l)) ?? lines.slice(-3).join(" | ");
      reject(new Error(`${script} exited with ${code}: ${reason.trim()}`));
    });
  });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGKILL");
    await exited;
  };
  return { proc, info, stop };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds used by a process so far (user + system). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

// ---------------------------------------------------------------- load

type Req = { method?: string; path: string; headers?: Record<string, string>; body?: string; setupRequest?: any; onResponse?: any };

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpu: number;
  cpuUs: number;
}

async function load(port: number, requests: Req[], expected: (status: number) => boolean, connections: number): Promise<Measured> {
  const run = (duration: number) =>
    autocannon({ url: `http://127.0.0.1:${port}`, connections, duration, requests: requests as any });
  if (WARMUP > 0) await run(WARMUP);
  const pid = current!.proc.pid!;
  const cpu0 = cpuSeconds(pid);
  const r = await run(DURATION);
  const cpuUsed = cpuSeconds(pid) - cpu0;
  const cpu = cpuUsed / r.duration;
  let unexpected = 0;
  for (const [status, s] of Object.entries((r as any).statusCodeStats ?? {})) {
    if (!expected(Number(status))) unexpected += (s as { count: number }).count;
  }
  return {
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + unexpected,
    cpu,
    cpuUs: (cpuUsed / Math.max(1, r.requests.total)) * 1e6,
  };
}

// ---------------------------------------------------------------- scenarios

interface Row {
  contender: string;
  scenario: string;
  rps?: number;
  unit?: string;
  p50?: number;
  p99?: number;
  errors?: number;
  rss?: number;
  cpu?: number;
  /** Server CPU time per request, microseconds: steadier than req/s on a busy machine. */
  cpuUs?: number;
  /** Median over rounds of this row's throughput ÷ its reference's in the same round. */
  ratio?: number;
  /** The same from each row's best round alone (the statistic before per-round pairing). */
  bestRatio?: number;
  /** Reference CPU µs per request ÷ this row's (median over rounds): the throughput ratio if both were CPU-bound. */
  costRatio?: number;
  /** Each round's throughput and CPU µs per request, by round number. */
  rounds: Map<number, { rps: number; cpuUs: number }>;
  baseline?: string;
  note?: string;
}
const rows: Row[] = [];
let current: Contender | undefined;

type Scenario = "me" | "dead" | "login" | "cycle";
const labels: Record<Scenario, string> = {
  me: "GET /me (authenticated)",
  dead: "GET /me (dead cookie)",
  login: "POST /login (Argon2id)",
  cycle: "signup→login→me→logout",
};

const meRequests = (info: ReadyInfo, path: string): Req[] =>
  (info.cookies ?? []).slice(0, TOKENS).map((cookie) => ({ method: "GET", path, headers: { cookie } }));

let cycleCounter = 0;
function cycleRequests(): Req[] {
  const json = { "content-type": "application/json" };
  return [
    {
      method: "POST",
      path: "/signup",
      headers: json,
      setupRequest: (req: any, ctx: any) => {
        ctx.email = `cycle-${process.pid}-${++cycleCounter}@example.com`;
        return { ...req, body: JSON.stringify({ email: ctx.email, password: "bench cycle passphrase" }) };
      },
    },
    {
      method: "POST",
      path: "/login",
      headers: json,
      setupRequest: (req: any, ctx: any) => ({ ...req, body: JSON.stringify({ email: ctx.email, password: "bench cycle passphrase" }) }),
      onResponse: (_status: number, _body: string, ctx: any, headers: Record<string, string | string[]>) => {
        // autocannon keeps the server's spelling of header names (Express sends "Set-Cookie").
        const set = Object.entries(headers).find(([name]) => name.toLowerCase() === "set-cookie")?.[1];
        ctx.cookie = String(Array.isArray(set) ? set[0] : set).split(";")[0];
      },
    },
    { method: "GET", path: "/me", setupRequest: (req: any, ctx: any) => ({ ...req, headers: { cookie: ctx.cookie } }) },
    { method: "POST", path: "/logout", setupRequest: (req: any, ctx: any) => ({ ...req, headers: { cookie: ctx.cookie } }) },
  ];
}

async function measure(c: Contender, scenario: Scenario, path: string): Promise<Measured & { unit?: string }> {
  const { port, deadCookie, deadStatus } = c.info;
  switch (scenario) {
    case "me":
      return load(port, meRequests(c.info, path), (s) => s === 200, CONNECTIONS);
    case "dead":
      return load(port, [{ method: "GET", path, headers: { cookie: deadCookie! } }], (s) => s === deadStatus, CONNECTIONS);
    case "login": {
      const body = JSON.stringify({ email: "user0@example.com", password: "password123" });
      const req = { method: "POST", path: "/login", headers: { "content-type": "application/json" }, body };
      return load(port, [req], (s) => s === 200, LOGIN_CONNECTIONS);
    }
    case "cycle": {
      const m = await load(port, cycleRequests(), (s) => s >= 200 && s < 300, LOGIN_CONNECTIONS);
      return { ...m, rps: m.rps / 4, cpuUs: m.cpuUs * 4, unit: "cycles/s" };
    }
  }
}

interface Entry {
  name: string;
  script: string;
  env: Record<string, string>;
  scenarios: Scenario[];
  path: string;
  running?: Contender;
}
const entries: Entry[] = [];
function contender(name: string, script: string, env: Record<string, string>, scenarios: Scenario[], path = "/me") {
  const wanted = scenarios.filter((s) => !ONLY || ONLY.test(`${name} ${labels[s]}`));
  if (wanted.length === 0) return;
  entries.push({ name, script, env, scenarios: wanted, path });
  if (BASELINE && script === "latchkey.ts") {
    // The same row from the baseline checkout, on data of its own (its own SQLite file, schema, key prefix, seed).
    const twin: Record<string, string> = { ...env };
    const rename: Record<string, (v: string) => string> = {
      DATABASE_URL: (v) => v.replace(/\.db$/, "-baseline.db").replace(/(schema=[^&]+)/, "$1_base"),
      REDIS_PREFIX: (v) => v.replace(/:$/, "_base:"),
      BENCH_SEED_FILE: (v) => v.replace(/\.json$/, "-baseline.json"),
    };
    for (const [key, f] of Object.entries(rename)) if (twin[key] !== undefined) twin[key] = f(twin[key]!);
    entries.push({ name: name + BASELINE_TAG, script: join(BASELINE, "bench", "contenders", "latchkey.ts"), env: twin, scenarios: wanted, path });
  }
}

/**
 * Shows the best of the rounds (the one least disturbed by whatever else ran on the machine) and keeps
 * every round for the ratios; errors add up.
 */
function record(round: number, name: string, scenario: string, m: Measured & { unit?: string }, rss: number, note?: string) {
  const row = rows.find((r) => r.contender === name && r.scenario === scenario);
  const fresh: Row = { contender: name, scenario, ...m, rss, note, rounds: row?.rounds ?? new Map() };
  fresh.rounds.set(round, { rps: m.rps, cpuUs: m.cpuUs });
  if (!row) return void rows.push(fresh);
  const errors = (row.errors ?? 0) + m.errors;
  if ((m.rps ?? 0) > (row.rps ?? 0)) Object.assign(row, fresh);
  row.errors = errors;
  row.rss = rss;
}

async function rawArgon2(round: number): Promise<void> {
  const c = await start("argon2-raw.ts", {});
  await new Promise((r) => c.proc.once("exit", r));
  const { opsPerSecond, cpuUs, concurrency, rssMb: rss } = JSON.parse(c.info.note!) as { opsPerSecond: number; cpuUs: number; concurrency: number; rssMb: number };
  record(round, "@node-rs/argon2 verify (raw)", "Argon2id verify, no server", { rps: opsPerSecond, p50: NaN, p99: NaN, errors: 0, cpu: NaN, cpuUs, unit: "verifies/s" }, rss, `concurrency ${concurrency}`);
  process.stdout.write(`  raw argon2: ${opsPerSecond.toFixed(1)} verifies/s\n`);
}

// ---------------------------------------------------------------- the run

const startedAt = new Date();
// Never leave servers behind, whatever ends the run.
const children = () => entries.map((e) => e.running?.proc).filter((p): p is ChildProcess => !!p && p.exitCode === null);
process.on("exit", () => {
  for (const p of children()) p.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
const sqliteFile = (tag: string) => `sqlite:${join(work, `latchkey-${tag}.db`)}`;

contender("ceiling (node:http + Map)", "ceiling.ts", { BENCH_TOKENS: String(TOKENS) }, ["me", "dead"]);
contender("Latchkey, SQLite", "latchkey.ts", { DATABASE_URL: sqliteFile("small"), BENCH_SESSIONS: String(TOKENS) }, ["me", "dead", "login", "cycle"]);
contender("Latchkey, SQLite, ACCESS_LOG=off", "latchkey.ts", { DATABASE_URL: sqliteFile("small-nolog"), BENCH_SESSIONS: String(TOKENS), ACCESS_LOG: "off" }, ["me", "dead"]);
contender(
  "Latchkey, SQLite, cache off",
  "latchkey.ts",
  { DATABASE_URL: sqliteFile("small-nocache"), BENCH_SESSIONS: String(TOKENS), SESSION_CACHE_SIZE: "0" },
  ["me", "dead"],
);
const bigSeed = join(work, "big-tokens.json");
const bigName = `Latchkey, SQLite, ${BIG.toLocaleString("en")} sessions`;
contender(bigName, "latchkey.ts", { DATABASE_URL: sqliteFile("big"), BENCH_SESSIONS: String(BIG), BENCH_SEED_FILE: bigSeed }, ["me"]);
contender(
  `${bigName}, cache off`,
  "latchkey.ts",
  { DATABASE_URL: sqliteFile("big"), BENCH_SESSIONS: String(BIG), BENCH_SEED_FILE: bigSeed, SESSION_CACHE_SIZE: "0" },
  ["me"],
);
// Each PostgreSQL contender in a schema of its own (created by the engine), dropped at the end with the Redis keys.
const pgSchemas = [`bench_${process.pid}_pg`, `bench_${process.pid}_pgredis`];
const pgUrl = (schema: string) => `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${schema}`;
contender("Latchkey, PostgreSQL", "latchkey.ts", { DATABASE_URL: pgUrl(pgSchemas[0]!), BENCH_SESSIONS: String(TOKENS) }, ["me", "dead"]);
contender(
  "Latchkey, PostgreSQL + Redis",
  "latchkey.ts",
  { DATABASE_URL: pgUrl(pgSchemas[1]!), REDIS_URL, REDIS_PREFIX: `${pgSchemas[1]}:`, BENCH_SESSIONS: String(TOKENS) },
  ["me", "dead"],
);
contender("express-session, MemoryStore", "express-session.ts", { BENCH_STORE: "memory", BENCH_TOKENS: String(TOKENS) }, ["me", "dead", "cycle"]);
contender("express-session, SQLite store", "express-session.ts", { BENCH_STORE: "sqlite", BENCH_TOKENS: String(TOKENS) }, ["me", "dead", "cycle"]);
contender("better-auth on Hono, SQLite", "better-auth.ts", { BENCH_TOKENS: String(TOKENS) }, ["me", "dead"], "/api/auth/get-session");
const LOGIN_FLOOR = "login floor (node:http: read, verify, insert)";
contender(LOGIN_FLOOR, "login-floor.ts", {}, ["login"]);
const wantArgon2 = !ONLY || ONLY.test("argon2 raw verify POST /login signup");

// Every contender is started once, up front (an idle server costs nothing), so
// the rounds can interleave them: a burst of load from elsewhere on the
// machine then hits one round of everyone, not one contender's only chance.
for (const e of entries) {
  process.stdout.write(`${e.name}: starting\n`);
  try {
    if (e.env.BENCH_SEED_FILE && !existsSync(e.env.BENCH_SEED_FILE)) {
      const t0 = performance.now();
      const seeding = await start(e.script, { ...e.env, BENCH_SEED_ONLY: "1" });
      if (seeding.proc.exitCode === null) await new Promise((r) => seeding.proc.once("exit", r));
      process.stdout.write(`  seeded ${e.env.BENCH_SESSIONS} sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
    e.running = await start(e.script, e.env);
  } catch (err) {
    const reason = (err as Error).message.slice(0, 300);
    rows.push({ contender: e.name, scenario: "—", note: `skipped: ${reason}`, rounds: new Map() });
    process.stdout.write(`  SKIPPED: ${reason}\n`);
  }
}
try {
  for (let round = 1; round <= ROUNDS; round++) {
    process.stdout.write(`round ${round} of ${ROUNDS}\n`);
    for (const e of entries) {
      if (!e.running) continue;
      current = e.running;
      for (const s of e.scenarios) {
        const scenario = s === "dead" ? `GET /me (dead cookie, ${e.running.info.deadStatus})` : labels[s];
        const m = await measure(e.running, s, e.path);
        record(round, e.name, scenario, m, rssMb(e.running.proc.pid!), e.running.info.note);
        process.stdout.write(
          `  ${e.name} — ${scenario}: ${m.rps.toFixed(0)} ${m.unit ?? "req/s"}, p50 ${m.p50} ms, p99 ${m.p99} ms, errors ${m.errors}, server cpu ${(100 * m.cpu).toFixed(0)}%, ${m.cpuUs.toFixed(0)} µs/req\n`,
        );
      }
    }
    if (wantArgon2) await rawArgon2(round);
  }
} finally {
  current = undefined;
  for (const e of entries) await e.running?.stop();
  await dropBenchData();
}

async function dropBenchData(): Promise<void> {
  try {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    await client.connect();
    for (const schema of pgSchemas.flatMap((s) => [s, `${s}_base`])) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    const { Redis } = await import("ioredis");
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await redis.connect();
    for (const prefix of [`${pgSchemas[1]}:`, `${pgSchemas[1]}_base:`]) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
  } catch {
    // unreachable engines: their rows were skipped and nothing was created
  }
}
// Ratios against the reference measured in this same run, round by round: a row
// and its reference are measured minutes apart within a round, so a burst of
// load from elsewhere on the machine moves both, where comparing each row's best
// round would let one lucky round of the reference set every ratio.
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? undefined : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** Median over the rounds both rows ran of f(row's round, reference's round). */
const paired = (row: Row, ref: Row, f: (mine: { rps: number; cpuUs: number }, theirs: { rps: number; cpuUs: number }) => number) =>
  median([...row.rounds].flatMap(([round, mine]) => {
    const theirs = ref.rounds.get(round);
    return theirs ? [f(mine, theirs)] : [];
  }));

/** A row against its reference: the paired medians, and best round ÷ best round. `scale` multiplies the row's side. */
const compare = (row: Row, ref: Row, scale = 1) => ({
  ratio: paired(row, ref, (mine, theirs) => (scale * mine.rps) / theirs.rps),
  bestRatio: (scale * row.rps!) / ref.rps!,
  costRatio: paired(row, ref, (mine, theirs) => (scale * theirs.cpuUs) / mine.cpuUs),
});

const ceilingRow = rows.find((r) => r.contender.startsWith("ceiling") && r.scenario === "GET /me (authenticated)");
const ceilingDeadRow = rows.find((r) => r.contender.startsWith("ceiling") && r.scenario.startsWith("GET /me (dead"));
const argonRow = rows.find((r) => r.unit === "verifies/s");
for (const r of rows) {
  if (r.rps === undefined) continue;
  // Per request, a cycle costs one hash and one verify: its reference rate is half the verify rate.
  const [ref, baseline, scale] =
    r.scenario === "GET /me (authenticated)" ? [ceilingRow, "ceiling /me", 1]
    : r.scenario.startsWith("GET /me (dead") ? [ceilingDeadRow, "ceiling dead cookie", 1]
    : r.scenario.startsWith("POST /login") ? [argonRow, "raw Argon2id verify", 1]
    : r.scenario.startsWith("signup") ? [argonRow, "raw Argon2id ÷ 2 (one hash + one verify)", 2]
    : [undefined, "", 1];
  if (r.unit === "verifies/s") {
    [r.ratio, r.bestRatio, r.baseline] = [1, 1, "itself"];
    continue;
  }
  if (ref?.rps) Object.assign(r, { baseline }, compare(r, ref, scale));
}

// ---------------------------------------------------------------- output

const get = (contender: string, scenario: string) => rows.find((r) => r.contender === contender && r.scenario.startsWith(scenario));
const small = get("Latchkey, SQLite", "GET /me (authenticated)");
const big = get(`Latchkey, SQLite, ${BIG.toLocaleString("en")} sessions`, "GET /me (authenticated)");
const pg = get("Latchkey, PostgreSQL", "GET /me (authenticated)");
const nolog = get("Latchkey, SQLite, ACCESS_LOG=off", "GET /me (authenticated)");
const login = get("Latchkey, SQLite", "POST /login");
const loginFloor = get(LOGIN_FLOOR, "POST /login");
const verdict = (value: number | undefined, min: number) => (value === undefined ? "—" : value >= min ? "met" : "**missed**");
const show = (value: number | undefined) => (value === undefined ? "not measured" : value.toFixed(3));
const target = (label: string, min: number, r: Pick<Row, "ratio" | "bestRatio" | "costRatio"> | undefined) =>
  `| ${label} | ${show(r?.ratio)} (${verdict(r?.ratio, min)}) | ${show(r?.bestRatio)} | ${r?.costRatio === undefined ? "—" : `${show(r.costRatio)} (${verdict(r.costRatio, min)})`} | ≥ ${min} |`;
const bigVsSmall = big?.rps && small?.rps ? compare(big, small) : undefined;
const errorsOf = (mine: boolean) => rows.filter((r) => r.contender.startsWith("Latchkey") === mine).reduce((n, r) => n + (r.errors ?? 0), 0);

const fmt = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? "" : n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const table = [
  "| Contender | Scenario | Throughput | p50 ms | p99 ms | Errors | Server CPU | CPU µs/req | RSS MB | Ratio | CPU-cost ratio | Ratio to |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ...rows.map((r) =>
    r.rps === undefined
      ? `| ${r.contender} | ${r.scenario} | ${r.note ?? ""} | | | | | | | | | |`
      : `| ${r.contender} | ${r.scenario} | ${fmt(r.rps, r.rps < 100 ? 1 : 0)} ${r.unit ?? "req/s"} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.errors ?? ""} | ${r.cpu === undefined || Number.isNaN(r.cpu) ? "" : `${fmt(100 * r.cpu)}%`} | ${fmt(r.cpuUs)} | ${fmt(r.rss)} | ${r.ratio === undefined ? "" : r.ratio.toFixed(3)} | ${r.costRatio === undefined ? "" : r.costRatio.toFixed(3)} | ${r.baseline ?? ""} |`,
  ),
].join("\n");

// BENCH_BASELINE: each Latchkey row ÷ the same row from the baseline checkout, paired by round.
const medianCpuUs = (r: Row) => median([...r.rounds.values()].map((x) => x.cpuUs));
const abTable = rows
  .filter((base) => base.contender.endsWith(BASELINE_TAG) && base.rps !== undefined)
  .flatMap((base) => {
    const mine = get(base.contender.slice(0, -BASELINE_TAG.length), base.scenario);
    if (!mine?.rps) return [];
    const ab = compare(mine, base);
    return [`| ${mine.contender} | ${mine.scenario} | ${show(ab.ratio)} | ${show(ab.costRatio)} | ${fmt(medianCpuUs(mine), 1)} / ${fmt(medianCpuUs(base), 1)} |`];
  });
const abSection =
  abTable.length === 0
    ? ""
    : [
        `## This checkout ÷ baseline (${BASELINE})`,
        "",
        "Median over rounds of this checkout's row ÷ the baseline's in the same round; CPU µs per request are medians over rounds.",
        "",
        "| Contender | Scenario | Throughput ratio | CPU-cost ratio | CPU µs/req (this / baseline) |",
        "|---|---|---:|---:|---:|",
        ...abTable,
        "",
      ].join("\n");

const notesFile = join(here, "NOTES.md");
const md = `# Latchkey benchmark — ${startedAt.toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}. ${hasTaskset ? "Servers pinned to core 0, the load generator (autocannon, in the runner process) to core 1." : "taskset unavailable: nothing pinned."}
Each measurement: ${WARMUP} s warm-up, then ${DURATION} s; ${CONNECTIONS} connections (login and cycle: ${LOGIN_CONNECTIONS}); authenticated requests rotate over ${TOKENS} distinct live sessions.
Servers run with NODE_ENV=production and their default logging (Latchkey: LOG_LEVEL=info, ACCESS_LOG on, to /dev/null). Argon2id at the configured defaults. Latchkey's login rate limits are lifted (one account logs in thousands of times a minute here); their counter writes still run.
"Server CPU" is the server process's CPU time over the measurement: near 100% means the server, not the load generator, was the limit. "CPU µs/req" is that CPU time divided by the requests served (for the cycle, by cycles): the steadier figure on a shared machine.
Each row shows the best of ${ROUNDS} interleaved rounds (errors are summed over all rounds); all servers stay up for the whole run. The ratios pair rounds: the median over rounds of the row ÷ its reference in the same round.

${table}

${abSection}
![ratios](./${OUT.split("/").pop()}.svg)

## Targets

| Target | Throughput ratio (median of rounds) | Best round ÷ best round | CPU-cost ratio | Wanted |
|---|---:|---:|---:|---:|
${target("Latchkey SQLite GET /me ÷ ceiling (defaults: access log on)", 0.75, small)}
${target("Latchkey SQLite GET /me ÷ ceiling, ACCESS_LOG=off", 0.75, nolog)}
${target("Latchkey PostgreSQL GET /me ÷ ceiling", 0.35, pg)}
${target("Latchkey login ÷ raw Argon2id verify", 0.9, login)}
${target(`GET /me with ${BIG.toLocaleString("en")} sessions ÷ with ${TOKENS.toLocaleString("en")}`, 0.9, bigVsSmall)}

For orientation, the login floor (\`bench/contenders/login-floor.ts\`: bare node:http, one user read, the verify, one session insert, the cookie; no framework, rate limits, logging or validation) ran at ${show(loginFloor?.ratio)} of raw verify: the part of the login gap that no login server closes.

The throughput ratio is what the issue asks for: in each round, a row's throughput ÷ its reference's in that same round, and the median over the ${ROUNDS} rounds. "Best round ÷ best round" divides each row's best round by its reference's best round, as this file did before; one lucky round of the reference lowers every ratio by it. It only measures the servers when they are the bottleneck: when a row's server CPU is well under 100%, the load generator (sharing this machine with everything else running on it) was the limit, and that row's throughput understates the server. The CPU-cost ratio (the reference's CPU time per request ÷ the row's) is what the throughput ratio would be with both servers saturated.

Request errors (socket errors, timeouts, unexpected statuses) summed over all rounds: Latchkey rows ${errorsOf(true)}, other contenders ${errorsOf(false)}.

${existsSync(notesFile) ? readFileSync(notesFile, "utf8") : ""}`;

writeFileSync(`${OUT}.md`, md);
writeFileSync(`${OUT}.svg`, renderChart(rows.filter((r) => r.ratio !== undefined && r.unit !== "verifies/s").map((r) => ({ label: `${r.contender} — ${r.scenario}`, ratio: r.ratio! }))));
rmSync(work, { recursive: true, force: true });
process.stdout.write(`\n${table}\n\n${abSection}\nwrote ${OUT}.md and ${OUT}.svg\n`);
