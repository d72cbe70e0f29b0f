#!/usr/bin/env node
// `npm run build`: src/ -> dist/ (tsc -p tsconfig.build.json), plus the files
// the code reads at run time next to itself (the common-password list and its
// licence, the pages' assets). `--if-stale` skips the work when dist/ is newer
// than every source file: `npm start` and the test runs call it that way, so a
// fresh clone (or an edited src/) never runs an old build.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const stamp = join(dist, ".build-stamp");

/** Files copied as they are, relative to src/ (and to dist/). */
export const RUNTIME_FILES = ["auth/common-passwords.txt", "auth/common-passwords.LICENSE.txt", "pages/assets"];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function isStale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const inputs = [join(root, "src"), join(root, "tsconfig.json"), join(root, "tsconfig.build.json"), join(root, "package.json")];
  return inputs.some((p) => newestMtime(p) > built);
}

if (process.argv.includes("--if-stale") && !isStale()) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
} catch {
  console.error("latchkey build: TypeScript is not installed (a devDependency): run `npm install` (not --omit=dev) first");
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
const run = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (run.status !== 0) {
  console.error("latchkey build: tsc failed");
  process.exit(run.status ?? 1);
}
for (const file of RUNTIME_FILES) {
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  cpSync(join(root, "src", file), join(dist, file), { recursive: true });
}
writeFileSync(stamp, new Date().toISOString() + "\n");
