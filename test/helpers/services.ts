// PostgreSQL and Redis for tests: where they are, whether they answer, and a
// private schema / key prefix per run so parallel runs never meet.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { maskUrl } from "../../src/config.js";

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
    const where = service === "postgres" ? maskUrl(TEST_DATABASE_URL) : TEST_REDIS_URL;
    const line = `${service} unreachable at ${where} (${problem})`;
    if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but ${line}: cannot run ${suite}`);
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

export type ProxyMode = "up" | "refuse" | "blackhole";

export interface TcpProxy {
  port: number;
  /** The local ports of the proxy's connections to the target: what the target sees as client ports. */
  upstreamPorts(): number[];
  /**
   * up: forward; refuse: close every new connection at once; blackhole: accept
   * and never answer (a silent network). Switching cuts every open connection.
   */
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of PostgreSQL or Redis, so a test can take the engine
 * away from one server and give it back, without touching the machine's service.
 */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const { createServer, connect } = await import("node:net");
  let mode: ProxyMode = "up";
  const open = new Set<import("node:net").Socket>();
  const upstreams = new Set<import("node:net").Socket>();
  const track = (socket: import("node:net").Socket, set: Set<import("node:net").Socket>) => {
    set.add(socket);
    socket.on("close", () => set.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((socket) => {
    track(socket, open);
    if (mode === "refuse") return socket.destroy();
    if (mode === "blackhole") return; // hold the socket, say nothing
    const upstream = connect(targetPort, targetHost);
    track(upstream, upstreams);
    socket.pipe(upstream).pipe(socket);
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as import("node:net").AddressInfo).port;
  const cutAll = () => {
    for (const s of [...open, ...upstreams]) s.destroy();
  };
  return {
    port,
    upstreamPorts: () => [...upstreams].map((s) => s.localPort).filter((p): p is number => typeof p === "number"),
    setMode(next) {
      mode = next;
      cutAll();
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `url` with its host and port replaced (to go through a proxy). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}
