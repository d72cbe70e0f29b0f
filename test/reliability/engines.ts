// Which storage engines the reliability suites run against, and how each one
// gets a fresh database, a second store handle and a row count from outside
// the server.
//
// RELIABILITY_ENGINES=sqlite,postgres,postgres+redis picks them explicitly (an engine named
// there must work, or the suite fails). Without it: sqlite always, postgres
// when the server at RELIABILITY_POSTGRES_URL answers and this build has a
// postgres engine (REQUIRE_SERVICES=1 turns an unreachable server into a failure).
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/server.js";
import { SERVER_ROOT } from "./harness.js";
import { maskUrl } from "../../src/config.js";

export interface EngineTarget {
  engine: string;
  /** Environment for a server (or store) on this target's database. */
  env: Record<string, string>;
  /** A second store on the same database, as another process would open it. */
  openStore(): Promise<Store>;
  /** Session rows, read by a separate connection. */
  countSessions(): Promise<number>;
  cleanup(): Promise<void>;
}

export interface EngineChoice {
  name: string;
  /** Set when the engine cannot run here: the suite skips it with this reason. */
  skip?: string;
  prepare(): Promise<EngineTarget>;
}

const POSTGRES_URL = process.env.RELIABILITY_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.RELIABILITY_REDIS_URL || "redis://127.0.0.1:6379";
// Packages and store code of the build under test (this checkout unless RELIABILITY_SERVER_ROOT says otherwise).
const require = createRequire(`${SERVER_ROOT}/package.json`);

/** A store opened the way the server opens it, from the same environment. */
export async function storeFor(env: Record<string, string>): Promise<Store> {
  const { loadConfig } = (await import(pathToFileURL(`${SERVER_ROOT}/src/config.ts`).href)) as typeof import("../../src/config.js");
  const { openStore } = (await import(pathToFileURL(`${SERVER_ROOT}/src/store/open.ts`).href)) as typeof import("../../src/store/open.js");
  return openStore(loadConfig({ NODE_ENV: "test", ...env }));
}

function sqliteTarget(): Promise<EngineTarget> {
  const dir = tempDir("latchkey-reliability-");
  const path = join(dir.path, "latchkey.db");
  const env = { DATABASE_URL: `sqlite:${path}` };
  return Promise.resolve({
    engine: "sqlite",
    env,
    openStore: () => storeFor(env),
    async countSessions() {
      // A read-only connection of its own: WAL readers never block the server's writer.
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT count(*) FROM sessions").pluck().get() as number;
      } finally {
        db.close();
      }
    },
    async cleanup() {
      dir.remove();
    },
  });
}

/** node-postgres, loaded only when present (the postgres engine brings it). */
function loadPg(): any {
  try {
    return require("pg");
  } catch {
    return undefined;
  }
}

function loadRedis(): any {
  try {
    const mod = require("ioredis");
    return mod.default ?? mod.Redis ?? mod;
  } catch {
    return undefined;
  }
}

async function postgresReachable(): Promise<string | undefined> {
  const pg = loadPg();
  if (!pg) return "the pg package is not installed (this build has no postgres engine)";
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${maskUrl(POSTGRES_URL)} is unreachable (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

let pgCounter = 0;
/**
 * A database of its own per target (CREATE DATABASE), dropped at cleanup; with
 * Redis, sessions and counters under a key prefix of its own, deleted at cleanup.
 */
async function postgresTarget(withRedis = false): Promise<EngineTarget> {
  const pg = loadPg();
  const name = `latchkey_rel_${process.pid}_${Date.now()}_${++pgCounter}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const prefix = `latchkey-rel-${name}:`;
  const env: Record<string, string> = { DATABASE_URL: url.toString() };
  if (withRedis) Object.assign(env, { REDIS_URL, REDIS_PREFIX: prefix });
  const redisKeys = async (pattern: string, drop: boolean): Promise<number> => {
    const Redis = loadRedis();
    const r = new Redis(REDIS_URL, { lazyConnect: true });
    await r.connect();
    try {
      let n = 0;
      let cursor = "0";
      do {
        const [next, keys] = (await r.scan(cursor, "MATCH", pattern, "COUNT", 1000)) as [string, string[]];
        cursor = next;
        n += keys.length;
        if (drop && keys.length) await r.del(...keys);
      } while (cursor !== "0");
      return n;
    } finally {
      r.disconnect();
    }
  };
  // Probe: this build must have a postgres engine that migrates the new database.
  try {
    const probe = await storeFor(env);
    await probe.close();
  } catch (err) {
    await dropDatabase(pg, name);
    throw err;
  }
  return {
    engine: withRedis ? "postgres+redis" : "postgres",
    env,
    openStore: () => storeFor(env),
    async countSessions() {
      // Redis keeps one key per session (native TTL does the pruning).
      if (withRedis) return redisKeys(`${prefix}session:*`, false);
      const c = new pg.Client({ connectionString: env.DATABASE_URL });
      await c.connect();
      try {
        const r = await c.query("SELECT count(*)::int AS n FROM sessions");
        return r.rows[0].n as number;
      } finally {
        await c.end();
      }
    },
    async cleanup() {
      await dropDatabase(pg, name);
      if (withRedis) await redisKeys(`${prefix}*`, true);
    },
  };
}

async function dropDatabase(pg: any, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: POSTGRES_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

async function postgresSupported(): Promise<string | undefined> {
  try {
    const t = await postgresTarget();
    await t.cleanup();
    return undefined;
  } catch (err) {
    return `this build cannot run on PostgreSQL (${(err as Error).message})`;
  }
}

/** The engines to run, resolved once per test file (top-level await in the suite). */
export async function chooseEngines(): Promise<EngineChoice[]> {
  const explicit = process.env.RELIABILITY_ENGINES?.split(",").map((s) => s.trim()).filter(Boolean);
  const names = explicit ?? ["sqlite", "postgres"];
  const choices: EngineChoice[] = [];
  for (const name of names) {
    if (name === "sqlite") {
      choices.push({ name, prepare: sqliteTarget });
    } else if (name === "postgres") {
      let reason = await postgresReachable();
      const mustRun = explicit !== undefined || (process.env.REQUIRE_SERVICES === "1" && reason?.includes("unreachable"));
      if (!reason) reason = await postgresSupported();
      if (reason && mustRun) {
        // Named explicitly (or required and unreachable): fail loudly in the test itself.
        choices.push({ name, prepare: () => Promise.reject(new Error(`engine postgres: ${reason}`)) });
      } else {
        choices.push({ name, skip: reason, prepare: () => postgresTarget() });
      }
    } else if (name === "postgres+redis") {
      // Only when named: sessions and counters in Redis, users in PostgreSQL.
      const reason = (await postgresReachable()) ?? (loadRedis() ? undefined : "the ioredis package is not installed");
      choices.push({ name, prepare: () => (reason ? Promise.reject(new Error(`engine ${name}: ${reason}`)) : postgresTarget(true)) });
    } else {
      choices.push({ name, prepare: () => Promise.reject(new Error(`unknown engine "${name}" in RELIABILITY_ENGINES`)) });
    }
  }
  for (const c of choices) if (c.skip) console.warn(`[reliability] SKIPPING engine ${c.name}: ${c.skip}`);
  return choices;
}
