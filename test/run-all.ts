// `npm test`: every suite, one after the other.
//   1. the main suite (vitest.config.ts): unit, HTTP on SQLite, store contract on every engine, browser, fuzz
//   2. the HTTP suites again on PostgreSQL and on PostgreSQL+Redis (skipped loudly when unreachable,
//      failing instead with REQUIRE_SERVICES=1)
//   3. the reliability suites (crash, concurrency, soak, shutdown)
//   4. the packaging test: npm pack, installed into a fresh app, run and type-checked there
// Any failing step fails the run; the steps after it still run, so one report shows everything.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { servicesAvailable, type Service } from "./helpers/services.js";

const steps: { name: string; args: string[]; env?: Record<string, string>; services?: Service[] }[] = [
  { name: "main suite", args: [] },
  { name: "HTTP suites on PostgreSQL", args: ["-c", "vitest.engines.config.ts"], env: { TEST_ENGINE: "postgres" }, services: ["postgres"] },
  {
    name: "HTTP suites on PostgreSQL+Redis",
    args: ["-c", "vitest.engines.config.ts"],
    env: { TEST_ENGINE: "postgres-redis" },
    services: ["postgres", "redis"],
  },
  { name: "reliability suites", args: ["-c", "vitest.reliability.config.ts"] },
  { name: "packaging", args: ["-c", "vitest.packaging.config.ts"] },
];

const reports = mkdtempSync(join(tmpdir(), "latchkey-test-report-"));
const failed: string[] = [];
const totals = { passed: 0, failed: 0, skipped: 0 };
for (const [i, step] of steps.entries()) {
  if (step.services && !(await servicesAvailable(step.services, step.name))) continue;
  console.log(`\n=== ${step.name} ===`);
  const report = join(reports, `${i}.json`);
  const run = spawnSync(
    "npx",
    ["vitest", "run", ...step.args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...process.env, ...step.env } },
  );
  if (run.status !== 0) failed.push(step.name);
  try {
    const r = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests;
    totals.skipped += r.numPendingTests + r.numTodoTests;
  } catch {
    failed.includes(step.name) || failed.push(step.name); // no report: the runner itself broke
  }
}
rmSync(reports, { recursive: true, force: true });
console.log(failed.length === 0 ? "\nnpm test: every step passed" : `\nnpm test: FAILED in ${failed.join(", ")}`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failed.length === 0 && totals.passed > 0 ? 0 : 1);
