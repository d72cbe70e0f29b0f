#!/usr/bin/env node
// `npx latchkey ...`: the compiled CLI (dist/cli.js). A published package always has it; a clone of the
// repository builds it with `npm run build` (`npm start`, `npm test` and `npm pack` do so when it is stale).
import { existsSync } from "node:fs";

if (!existsSync(new URL("../dist/cli.js", import.meta.url))) {
  console.error('latchkey: dist/ is not built: run "npm run build" in the repository first');
  process.exit(1);
}
const { main } = await import("../dist/cli.js");
// Pipes and files are written synchronously on Linux, so exiting right away loses no output.
process.exit(await main(process.argv.slice(2)));
