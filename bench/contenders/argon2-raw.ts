// The login baseline: raw @node-rs/argon2 verify throughput at the configured
// parameters and concurrency (ARGON2_*), with nothing around it. The runner
// pins this process to the same core the servers get.
import { hash, verify } from "@node-rs/argon2";
import { loadConfig } from "../../src/config.js";
import { ready } from "./protocol.js";

const { argon2 } = loadConfig();
const params = { algorithm: 2 as const, memoryCost: argon2.memoryCost, timeCost: argon2.timeCost, parallelism: argon2.parallelism };
const stored = await hash("password123", params);
const seconds = Number(process.env.BENCH_DURATION ?? 5);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);

/** Verifies per second, and process CPU µs per verify (all threads: the hashing runs on libuv's pool). */
async function measure(ms: number): Promise<{ rate: number; cpuUs: number }> {
  let done = 0;
  const cpu0 = process.cpuUsage();
  const until = performance.now() + ms;
  const loop = async () => {
    while (performance.now() < until) {
      if (!(await verify(stored, "password123"))) throw new Error("verify failed");
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: argon2.concurrency }, loop));
  const cpu = process.cpuUsage(cpu0);
  return { rate: done / ((performance.now() - started) / 1000), cpuUs: (cpu.user + cpu.system) / Math.max(1, done) };
}

await measure(warmup * 1000);
const { rate: opsPerSecond, cpuUs } = await measure(seconds * 1000);
ready({ port: 0, note: JSON.stringify({ opsPerSecond, cpuUs, concurrency: argon2.concurrency, rssMb: process.memoryUsage().rss / 2 ** 20 }) });
