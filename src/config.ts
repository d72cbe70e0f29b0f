// Environment -> typed, validated configuration, in one place. Every knob is
// documented in the README's configuration table; keep the two in step.
import { availableParallelism } from "node:os";

export type StoreUrl = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string | undefined;
  database: StoreUrl;
  /** Public origin(s) the browser pages are served from; the first one builds links. */
  publicUrl: string | undefined;
  trustedOrigins: string[];
  allowSameSite: boolean;
  secureCookies: boolean;
  session: {
    idleTimeoutMs: number;
    absoluteLifetimeMs: number;
    touchIntervalMs: number;
    pruneIntervalMs: number;
    pruneBatchSize: number;
    /** Validated session reads kept in process by the SQLite engine; 0 = off. */
    cacheSize: number;
  };
  argon2: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number };
  bodyLimitBytes: number;
  logLevel: string;
  /** One info line per request (method, path, status, ms). */
  accessLog: boolean;
  shutdownGraceMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90", "90s", "15m", "1h", "7d" -> milliseconds. A bare number is seconds. */
export function parseDuration(name: string, raw: string): number {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a duration like 90s, 15m, 1h or 7d, got "${raw}"`);
  return Number(match[1]) * UNITS[match[2] ?? "s"]!;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function duration(env: Env, name: string, fallback: string, minMs = 1): number {
  const ms = parseDuration(name, env[name] || fallback);
  if (ms < minMs) throw new ConfigError(`${name} must be at least ${minMs} ms, got "${env[name]}"`);
  return ms;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function origin(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http or https URL, got "${raw}"`);
  }
  return url.origin;
}

export function parseDatabaseUrl(raw: string): StoreUrl {
  if (raw.startsWith("sqlite:")) {
    const path = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (!path) throw new ConfigError(`DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/latchkey.db`);
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) return { kind: "postgres", url: raw };
  throw new ConfigError(`DATABASE_URL must start with sqlite: or postgres://, got "${raw.replace(/\/\/[^@/]*@/, "//***@")}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV === "production" ? "production" : env.NODE_ENV === "test" ? "test" : "development";
  const publicUrl = env.PUBLIC_URL ? origin("PUBLIC_URL", env.PUBLIC_URL) : undefined;
  const trustedOrigins = (env.TRUSTED_ORIGINS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => origin("TRUSTED_ORIGINS", s));
  const idleTimeoutMs = duration(env, "SESSION_IDLE_TIMEOUT", "7d", 1000);
  const absoluteLifetimeMs = duration(env, "SESSION_ABSOLUTE_LIFETIME", "30d", 1000);
  if (idleTimeoutMs > absoluteLifetimeMs) {
    throw new ConfigError("SESSION_IDLE_TIMEOUT must not be longer than SESSION_ABSOLUTE_LIFETIME");
  }
  const touchIntervalMs = duration(env, "SESSION_TOUCH_INTERVAL", "1h", 0);
  if (touchIntervalMs >= idleTimeoutMs) {
    throw new ConfigError("SESSION_TOUCH_INTERVAL must be shorter than SESSION_IDLE_TIMEOUT");
  }

  return {
    env: nodeEnv,
    port: integer(env, "PORT", 3000, 0, 65535),
    host: env.HOST || undefined,
    database: parseDatabaseUrl(env.DATABASE_URL || "sqlite:./data/latchkey.db"),
    publicUrl,
    trustedOrigins: publicUrl ? [publicUrl, ...trustedOrigins] : trustedOrigins,
    allowSameSite: boolean(env, "ALLOW_SAME_SITE", false),
    secureCookies: nodeEnv === "production" || publicUrl?.startsWith("https:") === true,
    session: {
      idleTimeoutMs,
      absoluteLifetimeMs,
      touchIntervalMs,
      pruneIntervalMs: duration(env, "SESSION_PRUNE_INTERVAL", "1m", 1000),
      pruneBatchSize: integer(env, "SESSION_PRUNE_BATCH", 1000, 1, 100_000),
      cacheSize: integer(env, "SESSION_CACHE_SIZE", 10_000, 0, 10_000_000),
    },
    argon2: {
      memoryCost: integer(env, "ARGON2_MEMORY_KIB", 19456, 1024, 4_194_304),
      timeCost: integer(env, "ARGON2_TIME_COST", 2, 1, 100),
      parallelism: integer(env, "ARGON2_PARALLELISM", 1, 1, 16),
      concurrency: integer(env, "ARGON2_CONCURRENCY", availableParallelism(), 1, 256),
    },
    bodyLimitBytes: integer(env, "BODY_LIMIT_BYTES", 16 * 1024, 256, 10 * 1024 * 1024),
    logLevel: env.LOG_LEVEL || (nodeEnv === "test" ? "silent" : "info"),
    accessLog: boolean(env, "ACCESS_LOG", true),
    shutdownGraceMs: duration(env, "SHUTDOWN_GRACE", "10s", 0),
    headersTimeoutMs: duration(env, "HEADERS_TIMEOUT", "10s", 1000),
    requestTimeoutMs: duration(env, "REQUEST_TIMEOUT", "30s", 1000),
  };
}
