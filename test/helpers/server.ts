// Real servers on ephemeral ports over real SQLite files, for integration tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadConfig, type Config } from "../../src/config.js";
import { startServer, type RunningServer } from "../../src/serve.js";
import type { Logger } from "../../src/log.js";
import {
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  deleteRedisPrefix,
  dropSchema,
  freshRedisPrefix,
  freshSchemaName,
  schemaUrl,
} from "./services.js";

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

/**
 * Abuse limits out of the way of tests that are not about them: every test
 * client is 127.0.0.1 on a clock that does not move, and many tests use the
 * seed lesson's "password123". test/abuse/* passes the real values back in.
 */
export const RELAXED_ABUSE_LIMITS = {
  LOGIN_IP_LIMIT: "1000000",
  LOGIN_EMAIL_LIMIT: "1000000",
  SIGNUP_IP_LIMIT: "1000000",
  LOCKOUT_THRESHOLD: "1000000",
  LOCKOUT_ACCOUNT_THRESHOLD: "1000000",
  // Password reset: per client IP and server-wide (the per-address limit stays real, test/password-reset.test.ts tests it).
  FORGOT_PASSWORD_IP_LIMIT: "1000000",
  FORGOT_PASSWORD_GLOBAL_LIMIT: "1000000",
  RESET_PASSWORD_IP_LIMIT: "1000000",
  PASSWORD_REJECT_COMMON: "false",
};

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    ...FAST_ARGON2,
    ...RELAXED_ABUSE_LIMITS,
    ...env,
  });
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
  /** Where the server keeps its data; default TEST_ENGINE, else sqlite. */
  engine?: TestEngine;
  /** Reused by restart(): the PostgreSQL schema and Redis prefix of this server. */
  schema?: string;
  redisPrefix?: string;
}

export type TestEngine = "sqlite" | "postgres" | "postgres-redis";

/** TEST_ENGINE=postgres|postgres-redis runs the HTTP suites on those engines (npm run test:postgres). */
export function testEngine(): TestEngine {
  const raw = process.env.TEST_ENGINE || "sqlite";
  if (raw !== "sqlite" && raw !== "postgres" && raw !== "postgres-redis") {
    throw new Error(`TEST_ENGINE must be sqlite, postgres or postgres-redis, got "${raw}"`);
  }
  return raw;
}

/**
 * Environment for a server on PostgreSQL (own schema) and optionally Redis
 * (own prefix), plus the cleanup that removes both.
 */
export function engineEnv(engine: TestEngine, ids: { schema?: string; redisPrefix?: string } = {}) {
  if (engine === "sqlite") return { env: {}, schema: undefined, redisPrefix: undefined, cleanup: async () => {} };
  const schema = ids.schema ?? freshSchemaName();
  const redisPrefix = engine === "postgres-redis" ? (ids.redisPrefix ?? freshRedisPrefix()) : undefined;
  const env: Record<string, string> = { DATABASE_URL: schemaUrl(schema) };
  if (redisPrefix) Object.assign(env, { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redisPrefix });
  return {
    env,
    schema,
    redisPrefix,
    cleanup: async () => {
      await dropSchema(schema);
      if (redisPrefix) await deleteRedisPrefix(redisPrefix);
    },
  };
}

export { TEST_DATABASE_URL };

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dbPath ? undefined : tempDir();
  const dbPath = options.dbPath ?? join(dir!.path, "latchkey.db");
  const clock = options.clock ?? createTestClock();
  // A test that names its own DATABASE_URL keeps it; otherwise TEST_ENGINE decides.
  const engine = options.env?.DATABASE_URL ? "sqlite" : (options.engine ?? testEngine());
  const services = engineEnv(engine, options);
  const config = testConfig({ DATABASE_URL: `sqlite:${dbPath}`, ...services.env, ...options.env });
  const running = await startServer({ config, clock, logger: options.logger });
  const server: TestServer = {
    ...running,
    clock,
    dbPath,
    restart: async () => {
      await running.close();
      return startTestServer({ ...options, clock, dbPath, schema: services.schema, redisPrefix: services.redisPrefix });
    },
    destroy: async () => {
      await running.close();
      dir?.remove();
      await services.cleanup();
    },
  };
  return server;
}

/** A Fetch handler (a Hono app's, say) served by @hono/node-server on an ephemeral loopback port. */
export async function serveFetch(fetch: (request: Request) => Response | Promise<Response>): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
