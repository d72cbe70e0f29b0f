// The HTTP integration suites again, on the engine TEST_ENGINE names
// (npm run test:postgres, test:postgres-redis). Left out: suites about one
// engine's files (SQLite reads and its session cache, the store contract, which runs every engine
// itself), the browser, the CLI, and the fuzz suite, which counts SQLite rows.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        "node_modules/**",
        "test/store/**",
        "test/unit/**",
        "test/browser/**",
        "test/cli.test.ts",
        "test/fuzz.test.ts",
        "test/session-lifetime.test.ts",
        "test/rehash.test.ts",
        "test/logging.test.ts",
        "test/session-cache.test.ts",
        "test/multi-instance.test.ts",
        "test/faults.test.ts",
      ],
    },
  }),
);
