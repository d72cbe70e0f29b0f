// Real servers on ephemeral ports over real SQLite files, for integration tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config.js";
import { startServer, type RunningServer } from "../../src/serve.js";
import type { Logger } from "../../src/log.js";

/** A clock the test moves by hand. */
export interface TestClock {
  (): number;
  advance(ms: number): void;
  set(ms: number): void;
}

export function createTestClock(start = Date.UTC(2026, 0, 1)): TestClock {
  let now = start;
  const clock = (() => now) as TestClock;
  clock.advance = (ms) => void (now += ms);
  clock.set = (ms) => void (now = ms);
  return clock;
}

/** Fast Argon2 parameters for tests that are not about Argon2 itself. */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1" };

export function tempDir(prefix = "latchkey-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: "test", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", ...FAST_ARGON2, ...env });
}

export interface TestServer extends RunningServer {
  clock: TestClock;
  dbPath: string;
  /** Restart on the same database file (and clock). */
  restart(): Promise<TestServer>;
  /** Close the server and delete its database. */
  destroy(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: TestClock;
  dbPath?: string;
  logger?: Logger;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dbPath ? undefined : tempDir();
  const dbPath = options.dbPath ?? join(dir!.path, "latchkey.db");
  const clock = options.clock ?? createTestClock();
  const config = testConfig({ DATABASE_URL: `sqlite:${dbPath}`, ...options.env });
  const running = await startServer({ config, clock, logger: options.logger });
  const server: TestServer = {
    ...running,
    clock,
    dbPath,
    restart: async () => {
      await running.close();
      return startTestServer({ ...options, clock, dbPath });
    },
    destroy: async () => {
      await running.close();
      dir?.remove();
    },
  };
  return server;
}
