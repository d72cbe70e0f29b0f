#!/usr/bin/env node
// `npx latchkey ...`: runs the TypeScript CLI (src/cli.ts) through tsx, so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
// Pipes and files are written synchronously on Linux, so exiting right away loses no output.
process.exit(await main(process.argv.slice(2)));
