// Vitest global setup: dist/ rebuilt when any source file is newer (scripts/build.mjs --if-stale),
// so the tests that run the compiled server and CLI never run an old build.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const script = fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url));
  const res = spawnSync(process.execPath, [script, "--if-stale"], { stdio: "inherit" });
  if (res.status !== 0) throw new Error("npm run build failed: the tests that run dist/ cannot run");
}
