// The packaging test (test/packaging): `npm pack`, install into a fresh app, run and type-check it there.
// Its own step of `npm test`: it builds better-sqlite3 once, which takes a minute or two.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/packaging/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: "forks",
  },
});
