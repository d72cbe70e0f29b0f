import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Slow fault-injection suites: `npm run test:reliability` (vitest.reliability.config.ts).
    exclude: [...configDefaults.exclude, "test/reliability/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
