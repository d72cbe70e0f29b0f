// Entry point (`npm start`, `node dist/server.js`): config -> store -> app -> listen;
// graceful shutdown on SIGTERM/SIGINT. A failed start is one line on stderr
// and an exit code: 2 for configuration, 1 for anything else (port in use,
// database unreachable or unmigrated, a missing optional package).
import { existsSync } from "node:fs";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { startServer, untilSignalled } from "./serve.js";
import { startupFailure } from "./startup-errors.js";

let config: Config;
try {
  if (existsSync(".env")) process.loadEnvFile(".env");
  config = loadConfig();
} catch (err) {
  console.error(`latchkey: ${(err as Error).message}`);
  process.exit(2);
}

try {
  process.exit(await untilSignalled(await startServer({ config })));
} catch (err) {
  console.error(`latchkey: ${err instanceof ConfigError ? err.message : startupFailure(err, config)}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}
