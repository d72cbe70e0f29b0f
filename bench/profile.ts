// Profiles one contender under authenticated GET /me load:
//   npx tsx bench/profile.ts [latchkey.ts] [seconds] [me|login]   then   node bench/profile-summary.mjs
// The server runs with --cpu-prof (pinned to core 0 when taskset exists); profiles land in bench/results/profiles/.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const here = dirname(fileURLToPath(import.meta.url));
const script = process.argv[2] ?? "latchkey.ts";
const seconds = Number(process.argv[3] ?? 8);
const work = mkdtempSync(join(tmpdir(), "latchkey-profile-"));
const readyFile = join(work, "ready.json");
const argv = [process.execPath, "--cpu-prof", `--cpu-prof-dir=${join(here, "results", "profiles")}`, "--import", "tsx", join(here, "contenders", script)];
const p = spawn("taskset", ["-c", "0", ...argv], {
  stdio: ["ignore", "ignore", "inherit", "pipe"],
  env: { ...process.env, NODE_ENV: "production", JWT_SECRET: randomBytes(32).toString("base64"), PORT: "0", HOST: "127.0.0.1", BENCH_DIR: work, BENCH_READY_FILE: readyFile, DATABASE_URL: `sqlite:${join(work, "latchkey.db")}` },
});
await new Promise((r) => p.stdio[3]!.on("data", r));
const info = JSON.parse(readFileSync(readyFile, "utf8"));
const login = process.argv[4] === "login";
const requests = login
  ? [{ method: "POST", path: "/login", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: "user0@example.com", password: "password123" }) }]
  : info.cookies.map((cookie: string) => ({ method: "GET", path: "/me", headers: { cookie } }));
const r = await autocannon({ url: `http://127.0.0.1:${info.port}`, connections: login ? 8 : 32, duration: seconds, requests });
console.log(`${script}: ${(r.requests.total / r.duration).toFixed(0)} req/s, statuses ${JSON.stringify(r.statusCodeStats)}`);
p.kill("SIGTERM"); // the contender closes and exits, which writes the profile
await new Promise((resolve) => p.on("exit", resolve));
