#!/usr/bin/env node
// `npx latchkey ...`: the compiled CLI (dist/cli.js, built by `npm run build`).
import { main } from "../dist/cli.js";

// Pipes and files are written synchronously on Linux, so exiting right away loses no output.
process.exit(await main(process.argv.slice(2)));
