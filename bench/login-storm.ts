// A login storm must not take down everyone else. Starts the real server as a
// child process (default Argon2id parameters and ARGON2_CONCURRENCY unless the
// environment says otherwise), measures its hash capacity, then prints the
// p50/p99 latency of GET /me for a logged-in user, first on a quiet server and
// then while logins arrive at twice the measured hash capacity.
//
//   npm run bench:storm -- --seconds 10 --me-rate 50
//   BENCH_TMPDIR=/dev/shm npm run bench:storm   (database on tmpfs: takes disk flushes out of the picture)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    "me-rate": { type: "string", default: "50" },
    "storm-factor": { type: "string", default: "2" },
  },
});
const seconds = Number(values.seconds);
const meRate = Number(values["me-rate"]);
const stormFactor = Number(values["storm-factor"]);

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), "latchkey-storm-"));
/** A free port, picked by the OS. */
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as AddressInfo;
    probe.close(() => resolve(port));
  });
});
const child = spawn(process.execPath, ["--import", "tsx", join(root, "src/server.ts")], {
  cwd: root,
  env: {
    ...process.env,
    NODE_ENV: "test",
    // Warnings only: an access-log line per request into a pipe this busy process drains would measure the pipe.
    LOG_LEVEL: "warn",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: `sqlite:${join(dir, "storm.db")}`,
    // A storm from one address would (rightly) be stopped by the rate limits long before the hasher;
    // this measures the hasher's back-pressure, so the limits are lifted.
    LOGIN_IP_LIMIT: "1000000000",
    LOGIN_EMAIL_LIMIT: "1000000000",
    LOCKOUT_THRESHOLD: "1000000000",
    LOCKOUT_ACCOUNT_THRESHOLD: "1000000000",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
const base = `http://127.0.0.1:${port}`;
for (let ready = false; !ready; ) {
  if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
  ready = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
  if (!ready) await sleep(100);
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Calls `fire` at `rate` per second for `seconds` (open loop: a slow answer does not slow the arrivals). */
async function openLoop(rate: number, seconds: number, fire: () => Promise<void>): Promise<void> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(fire());
  }
  await Promise.all(pending);
}

async function measureMe(cookie: string, rate: number, seconds: number) {
  const times: number[] = [];
  let failures = 0;
  await openLoop(rate, seconds, async () => {
    const t = performance.now();
    const res = await fetch(base + "/me", { headers: { cookie } });
    await res.arrayBuffer();
    if (res.status === 200) times.push(performance.now() - t);
    else failures++;
  });
  return { p50: percentile(times, 50), p99: percentile(times, 99), ok: times.length, failures };
}

try {
  const email = "storm-user@example.com";
  const password = "a password for the storm bench";
  if ((await post("/signup", { email, password })).status !== 201) throw new Error("signup failed");
  const login = await post("/login", { email, password });
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;

  // Hash capacity: a closed loop of logins (unknown emails: one dummy verify each) kept
  // 8 in flight, so the hasher never idles; completed logins per second. A first
  // short round warms the server up and is not counted.
  const probe = async (ms: number) => {
    const started = performance.now();
    let ok = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; performance.now() - started < ms; i++) {
          const res = await post("/login", { email: `probe-${ms}-${w}-${i}@example.com`, password: "wrong password" });
          await res.arrayBuffer();
          if (res.status === 401) ok++;
        }
      }),
    );
    return ok / ((performance.now() - started) / 1000);
  };
  await probe(1000);
  const capacity = await probe(3000);
  const stormRate = Math.round(capacity * stormFactor);

  const quiet = await measureMe(cookie, meRate, seconds);

  const outcomes = new Map<number, number>();
  let stormLatency: number[] = [];
  const storm = openLoop(stormRate, seconds, async () => {
    const t = performance.now();
    const res = await post("/login", { email: `storm-${Math.random()}@example.com`, password: "wrong password" });
    await res.arrayBuffer();
    outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
    stormLatency.push(performance.now() - t);
  });
  const stormy = await measureMe(cookie, meRate, seconds);
  await storm;

  const fmt = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`hash capacity (measured): ${capacity.toFixed(1)} logins/s; storm: ${stormRate} logins/s for ${seconds}s`);
  console.log(`/me at ${meRate}/s, quiet : p50 ${fmt(quiet.p50)}  p99 ${fmt(quiet.p99)}  (${quiet.ok} ok, ${quiet.failures} failed)`);
  console.log(`/me at ${meRate}/s, storm : p50 ${fmt(stormy.p50)}  p99 ${fmt(stormy.p99)}  (${stormy.ok} ok, ${stormy.failures} failed)`);
  const summary = [...outcomes].sort().map(([s, n]) => `${s}: ${n}`).join(", ");
  console.log(`storm logins: ${summary}; login p50 ${fmt(percentile(stormLatency, 50))} p99 ${fmt(percentile(stormLatency, 99))}`);
} finally {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  rmSync(dir, { recursive: true, force: true });
}
