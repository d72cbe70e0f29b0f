// PostgreSQL and Redis for tests: where they are, whether they answer, and a
// private schema / key prefix per run so parallel runs never meet.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";

export const TEST_DATABASE_URL =
  process.env.DATABASE_URL && /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL)
    ? process.env.DATABASE_URL
    : "postgres://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";

export type Service = "postgres" | "redis";

async function postgresAnswers(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisAnswers(): Promise<string | null> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    client.disconnect();
  }
}

const cache = new Map<Service, Promise<string | null>>();

/**
 * True when every service answers. When one does not: with REQUIRE_SERVICES=1
 * this throws (the run fails); otherwise it prints one loud line and returns
 * false so the caller skips.
 */
export async function servicesAvailable(services: Service[], suite: string): Promise<boolean> {
  for (const service of services) {
    if (!cache.has(service)) cache.set(service, service === "postgres" ? postgresAnswers() : redisAnswers());
    const problem = await cache.get(service)!;
    if (problem === null) continue;
    const where = service === "postgres" ? TEST_DATABASE_URL.replace(/\/\/[^@/]*@/, "//***@") : TEST_REDIS_URL;
    const line = `${service} unreachable at ${where} (${problem}): ${suite}`;
    if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but ${line}`);
    console.warn(`\n!!! SKIPPING ${suite}: ${line}. Start it or set ${service === "postgres" ? "DATABASE_URL" : "REDIS_URL"}. !!!\n`);
    return false;
  }
  return true;
}

/** A schema name no other run uses. */
export function freshSchemaName(): string {
  return `lk_test_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** The test database URL pointing at a schema. */
export function schemaUrl(schema: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A key prefix no other run uses. */
export function freshRedisPrefix(): string {
  return `latchkey-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
}

export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== "0");
  } finally {
    client.disconnect();
  }
}
