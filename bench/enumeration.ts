// Enumeration timing: does a login for an unknown email cost the same as a
// wrong password for a real one, and (EMAIL_VERIFICATION=required) does a
// signup with a taken address cost the same as one with a new address? Runs a
// real server (default Argon2id parameters unless ARGON2_* say otherwise) over
// a temporary SQLite file (or DATABASE_URL), sends the two kinds of each
// request interleaved, and prints the median time of each and their ratio.
// Target: within 5%.
//
//   npm run bench:enumeration -- --attempts 300
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/serve.js";

const { values } = parseArgs({ options: { attempts: { type: "string", default: "250" } } });
const attempts = Math.max(200, Number(values.attempts));

const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
const config = loadConfig({
  ...process.env,
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: process.env.DATABASE_URL || `sqlite:${join(dir, "bench.db")}`,
  // A taken address must answer like a new one: same 202, same bytes, same time.
  EMAIL_VERIFICATION: "required",
  // The limits would (rightly) stop a benchmark that hammers one account.
  LOGIN_IP_LIMIT: "1000000000",
  LOGIN_EMAIL_LIMIT: "1000000000",
  LOCKOUT_THRESHOLD: "1000000000",
  LOCKOUT_ACCOUNT_THRESHOLD: "1000000000",
  SIGNUP_IP_LIMIT: "1000000000",
});
const server = await startServer({ config });

interface Timed {
  ms: number;
  status: number;
  text: string;
}

async function post(path: string, email: string, password: string): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(server.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const text = await res.text();
  return { ms: performance.now() - started, status: res.status, text };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Times two kinds of the same request, interleaved and alternating which goes
 * first so that drift in machine load hits both alike, after a warm-up of each
 * (JIT, page cache). Prints the medians, their ratio and the distinct bodies.
 */
async function compare(title: string, status: number, a: [string, (i: number) => Promise<Timed>], b: [string, (i: number) => Promise<Timed>]) {
  for (let i = 1; i <= 10; i++) await a[1](-i).then(() => b[1](-i));
  const times: [number[], number[]] = [[], []];
  const bodies = new Set<string>();
  for (let i = 0; i < attempts; i++) {
    const order = i % 2 ? [1, 0] : [0, 1];
    for (const k of order) {
      const r = await [a, b][k]![1](i);
      if (r.status !== status) throw new Error(`${title}: expected ${status}, got ${r.status}`);
      times[k]!.push(r.ms);
      bodies.add(r.text);
    }
  }
  const [ma, mb] = times.map(median) as [number, number];
  const ratio = ma / mb;
  const width = Math.max(a[0].length, b[0].length);
  console.log(`\n${title}: ${attempts} of each, interleaved`);
  console.log(`median ${a[0].padEnd(width)} : ${ma.toFixed(2)} ms`);
  console.log(`median ${b[0].padEnd(width)} : ${mb.toFixed(2)} ms`);
  console.log(`ratio  ${"".padEnd(width)} : ${ratio.toFixed(4)} (${((ratio - 1) * 100).toFixed(2)}%) -> ${Math.abs(ratio - 1) <= 0.05 ? "within" : "OUTSIDE"} the 5% target`);
  // Neighbours in time share the machine's load; their ratio is steadier on a busy machine.
  const paired = median(times[0].map((t, i) => t / times[1][i]!));
  console.log(`paired ratio ${"".padEnd(width - 6)} : ${paired.toFixed(4)} (${((paired - 1) * 100).toFixed(2)}%)`);
  console.log(`distinct ${status} bodies${"".padEnd(Math.max(0, width - 12))} : ${bodies.size}`);
}

try {
  const run = Date.now();
  const email = `bench-user-${run}@example.com`;
  const signup = await post("/signup", email, "the real password, long enough");
  if (signup.status !== 202) throw new Error(`signup failed: ${signup.status}`);
  const a = config.argon2;
  console.log(`Argon2id m=${a.memoryCost} KiB, t=${a.timeCost}, p=${a.parallelism}; ${config.database.kind}`);

  // Wrong passwords answer 401 before the verification check, so the unverified account serves here.
  await compare(
    "POST /login",
    401,
    ["unknown email", (i) => post("/login", `nobody-${i}-${run}@example.com`, `wrong password ${i}`)],
    ["wrong password", (i) => post("/login", email, `wrong password ${i}`)],
  );
  await compare(
    "POST /signup (EMAIL_VERIFICATION=required)",
    202,
    ["new address", (i) => post("/signup", `new-${i}-${run}@example.com`, `a good password ${i}`)],
    ["taken address", (i) => post("/signup", email, `a good password ${i}`)],
  );
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
