import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Slow fault-injection suites: `npm run test:reliability` (vitest.reliability.config.ts).
    // The packaging test (npm pack + a fresh install): its own step of `npm test` (vitest.packaging.config.ts).
    exclude: [...configDefaults.exclude, "test/reliability/**", "test/packaging/**"],
    // The CLI and server-process tests run the compiled dist/ (as `npm start` and the bin do): rebuilt when stale.
    globalSetup: ["test/helpers/build-dist.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
