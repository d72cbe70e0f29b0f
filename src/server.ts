// Entry point: config -> store -> app -> listen; graceful shutdown on SIGTERM/SIGINT.
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./config.js";
import { startServer } from "./serve.js";

if (existsSync(".env")) process.loadEnvFile(".env");

try {
  const running = await startServer({ config: loadConfig() });
  const stop = (signal: string) => {
    running.latchkey.logger.info({ event: "server.stopping", signal });
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`latchkey: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
