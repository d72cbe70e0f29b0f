// Enumeration timing: does a login for an unknown email cost the same as a
// wrong password for a real one? Runs a real server (default Argon2id
// parameters unless ARGON2_* say otherwise) over a temporary SQLite file,
// sends the two kinds of login interleaved, and prints the median time of each
// and their ratio. Target: within 5%.
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
  DATABASE_URL: `sqlite:${join(dir, "bench.db")}`,
  // The limits would (rightly) stop a benchmark that hammers one account.
  LOGIN_IP_LIMIT: "1000000000",
  LOGIN_EMAIL_LIMIT: "1000000000",
  LOCKOUT_THRESHOLD: "1000000000",
  LOCKOUT_ACCOUNT_THRESHOLD: "1000000000",
});
const server = await startServer({ config });

async function login(email: string, password: string): Promise<{ ms: number; status: number; text: string }> {
  const started = performance.now();
  const res = await fetch(`${server.url}/login`, {
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

try {
  const email = "bench-user@example.com";
  const signup = await fetch(`${server.url}/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "the real password, long enough" }),
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status}`);

  // Warm up both paths (JIT, SQLite page cache) before measuring.
  for (let i = 0; i < 10; i++) {
    await login(email, `wrong password ${i}`);
    await login(`nobody-${i}@example.com`, `wrong password ${i}`);
  }

  const unknown: number[] = [];
  const wrong: number[] = [];
  const bodies = new Set<string>();
  for (let i = 0; i < attempts; i++) {
    // Interleaved, alternating which goes first, so drift in machine load hits both alike.
    const pair = [
      () => login(`nobody-${i}-${Date.now()}@example.com`, `wrong password ${i}`).then((r) => (unknown.push(r.ms), r)),
      () => login(email, `wrong password ${i}`).then((r) => (wrong.push(r.ms), r)),
    ];
    if (i % 2) pair.reverse();
    for (const run of pair) {
      const r = await run();
      if (r.status !== 401) throw new Error(`expected 401, got ${r.status}`);
      bodies.add(r.text);
    }
  }

  const mUnknown = median(unknown);
  const mWrong = median(wrong);
  const ratio = mUnknown / mWrong;
  const a = config.argon2;
  console.log(`Argon2id m=${a.memoryCost} KiB, t=${a.timeCost}, p=${a.parallelism}; ${attempts} attempts of each kind, interleaved`);
  console.log(`median unknown email : ${mUnknown.toFixed(2)} ms`);
  console.log(`median wrong password: ${mWrong.toFixed(2)} ms`);
  console.log(`ratio unknown/wrong  : ${ratio.toFixed(4)} (${((ratio - 1) * 100).toFixed(2)}%) -> ${Math.abs(ratio - 1) <= 0.05 ? "within" : "OUTSIDE"} the 5% target`);
  // Neighbours in time share the machine's load; their ratio is steadier on a busy machine.
  const paired = median(unknown.map((u, i) => u / wrong[i]!));
  console.log(`median paired ratio  : ${paired.toFixed(4)} (${((paired - 1) * 100).toFixed(2)}%)`);
  console.log(`distinct 401 bodies  : ${bodies.size}`);
} finally {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
