// Does POST /forgot-password take the same time for a known and an unknown
// email? Prints the response-time distribution of both over real HTTP.
// Run: npx tsx bench/forgot-password-timing.ts [rounds]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.js";
import type { Mailer } from "../src/mail.js";
import { createLatchkey } from "../src/latchkey.js";
import { createSqliteStore } from "../src/store/sqlite/index.js";
import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";

const rounds = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
// One client sends every request: the per-IP and server-wide limits of /forgot-password are lifted.
const config = loadConfig({
  NODE_ENV: "test",
  LOG_LEVEL: "silent",
  ARGON2_MEMORY_KIB: "1024",
  ARGON2_TIME_COST: "1",
  FORGOT_PASSWORD_IP_LIMIT: "1000000000",
  FORGOT_PASSWORD_GLOBAL_LIMIT: "1000000000",
});
// A mailer as slow as a real SMTP round trip, to show that it stays off the response path.
const mailer: Mailer = { send: () => new Promise((r) => setTimeout(r, 20)) };
const store = createSqliteStore(join(dir, "bench.db"));
const latchkey = createLatchkey({ config, store, mailer, backgroundTasks: false });
const server = serve({ fetch: latchkey.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => server.once("listening", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const post = (path: string, body: unknown) =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const known: string[] = [];
for (let i = 0; i < rounds; i++) {
  const email = `known-${i}@example.com`;
  // BASELINE=1: the "known" addresses have no account either, to show the noise floor.
  if (!process.env.BASELINE) await post("/signup", { email, password: "password123" });
  known.push(email);
}

async function time(email: string): Promise<number> {
  const started = performance.now();
  const res = await post("/forgot-password", { email });
  await res.text();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return performance.now() - started;
}

const knownMs: number[] = [];
const unknownMs: number[] = [];
for (let i = 0; i < 20; i++) await time(`warmup-${i}@example.com`);
for (let i = 0; i < rounds; i++) {
  // Interleaved in a random order, so drift and the previous request's background work affect both alike.
  if (Math.random() < 0.5) {
    knownMs.push(await time(known[i]!));
    unknownMs.push(await time(`unknown-${i}@example.com`));
  } else {
    unknownMs.push(await time(`unknown-${i}@example.com`));
    knownMs.push(await time(known[i]!));
  }
  await new Promise((r) => setTimeout(r, 25)); // let the previous background send finish
}
await latchkey.resets.settle();

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const row = (name: string, xs: number[]) =>
  `${name.padEnd(8)} n=${xs.length}  p50=${pct(xs, 0.5).toFixed(2)} ms  p90=${pct(xs, 0.9).toFixed(2)} ms  p99=${pct(xs, 0.99).toFixed(2)} ms`;
console.log("POST /forgot-password response time (mail send takes 20 ms, off the response path)");
console.log(row("known", knownMs));
console.log(row("unknown", unknownMs));
console.log(`p50 difference: ${(pct(knownMs, 0.5) - pct(unknownMs, 0.5)).toFixed(2)} ms`);

server.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
