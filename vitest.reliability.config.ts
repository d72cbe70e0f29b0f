// The reliability suites (crash, concurrency, soak, shutdown): slow on purpose,
// so they run only through `npm run test:reliability`, one file at a time.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: "forks",
    // The suites load the machine on purpose; running two at once would only measure each other.
    fileParallelism: false,
  },
});
