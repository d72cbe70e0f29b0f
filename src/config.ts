// Environment -> typed, validated configuration, in one place. Every knob is
// documented in the README's configuration table; keep the two in step.
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { availableParallelism } from "node:os";
import { parseDataKey } from "./auth/secret-box.js";
import { normalizeBasePath } from "./base-path.js";
import { emailSchema, newPasswordSchema } from "./schemas.js";
import { parseWebhookConfig, type WebhookConfig } from "./webhooks/config.js";

export type { WebhookConfig } from "./webhooks/config.js";

/** The access-token signing key: Ed25519 (EdDSA) or an HMAC secret (HS256). */
export type SigningKey =
  | { alg: "EdDSA"; privateKey: KeyObject; publicKey: KeyObject }
  | { alg: "HS256"; secret: KeyObject };

export type StoreUrl = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export interface Config {
  env: "development" | "production" | "test";
  port: number;
  host: string | undefined;
  database: StoreUrl;
  /** Connection settings shared by the networked engines (PostgreSQL, Redis). */
  store: {
    /** Apply pending PostgreSQL migrations at start (else run `latchkey migrate`). */
    autoMigrate: boolean;
    poolSize: number;
    connectTimeoutMs: number;
    queryTimeoutMs: number;
  };
  /** Sessions and counters in Redis (users stay in SQL); undefined keeps them in SQL. */
  redis: { url: string; prefix: string } | undefined;
  /** Public origin(s) the browser pages are served from; the first one builds links. */
  publicUrl: string | undefined;
  /** The path Latchkey is mounted under ("" or e.g. "/auth"): BASE_PATH, else the path of PUBLIC_URL. */
  basePath: string;
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
  argon2: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number; maxQueue: number };
  rateLimits: RateLimitConfig;
  /** Which proxies may name the client in X-Forwarded-For / Forwarded; null: none (the socket address is the client). */
  trustProxy: TrustProxy | null;
  /** The one header trusted proxies name the client in (TRUST_PROXY_HEADER); any other is ignored. */
  trustProxyHeader: ProxyHeader;
  /** Refuse passwords found in the shipped list of common passwords. */
  rejectCommonPasswords: boolean;
  bodyLimitBytes: number;
  /** Serve the built-in HTML pages (/, /account, /docs, /assets/*); off for API-only deployments. */
  pagesEnabled: boolean;
  logLevel: string;
  /** LOG_FORMAT: "auto" (readable lines in development on a terminal, JSON otherwise), "json" or "pretty". */
  logFormat: "auto" | "json" | "pretty";
  /** One info line per request (method, path, status, ms). */
  accessLog: boolean;
  shutdownGraceMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** The first admin, created at start when absent (LATCHKEY_ADMIN_EMAIL + LATCHKEY_ADMIN_PASSWORD). */
  adminBootstrap: { email: string; password: string } | undefined;
  tokens: {
    /** From JWT_PRIVATE_KEY or JWT_SECRET; undefined in development/test means "generate and persist one". */
    signingKey: SigningKey | undefined;
    issuer: string;
    audience: string;
    accessTtlMs: number;
    refreshTtlMs: number;
    refreshAbsoluteLifetimeMs: number;
  };
  passwordReset: { ttlMs: number };
  /** SIGNUP: open (anyone may sign up) or invite (only POST /users/invite creates accounts). INVITE_TTL: how long an invitation's link works. */
  signup: "open" | "invite";
  /** IMPERSONATION_MAX: the longest an admin's sign-in as a user lasts (not renewable). */
  impersonationMaxMs: number;
  invitations: { ttlMs: number };
  /**
   * EMAIL_VERIFICATION: off (no mail), optional (a link is mailed at signup;
   * nothing waits for it), required (no sign-in before the address is proven;
   * signup answers the same for a new and a taken address). EMAIL_VERIFICATION_TTL: how long a link works.
   */
  emailVerification: { mode: "off" | "optional" | "required"; ttlMs: number };
  /** Security notices mailed to the account's address: NOTIFY_PASSWORD_CHANGED, NOTIFY_NEW_DEVICE, NOTIFY_EMAIL_CHANGED, NOTIFY_MFA_CHANGED. */
  notices: { passwordChanged: boolean; newDevice: boolean; emailChanged: boolean; mfaChanged: boolean; impersonation: boolean };
  mail: { smtpUrl: string | undefined; from: string };
  /**
   * Second factors and re-authentication. dataKey: DATA_ENCRYPTION_KEY (32
   * bytes), sealing TOTP secrets at rest; undefined in development/test means
   * "generate one and keep it in the database", in production "no enrolment".
   * issuer: MFA_ISSUER, the name authenticator apps show. reauthMaxAgeMs:
   * REAUTH_MAX_AGE. requiredForAdmins: MFA_REQUIRED_FOR_ADMINS.
   */
  mfa: { dataKey: Buffer | undefined; issuer: string; reauthMaxAgeMs: number; requiredForAdmins: boolean };
  /** EVENTS_RETENTION: security events older than this are pruned in the background. */
  events: { retentionMs: number };
  /** METRICS_TOKEN: the bearer token GET /metrics asks for; undefined: no /metrics and nothing recorded. */
  metricsToken: string | undefined;
  /** WEBHOOK_URL and friends (src/webhooks/config.ts); null: no webhooks. */
  webhooks: WebhookConfig | null;
}

export interface Limit {
  limit: number;
  windowMs: number;
}

export interface RateLimitConfig {
  loginPerIp: Limit;
  loginPerEmail: Limit;
  signupPerIp: Limit;
  /** POST /forgot-password: per address (known or not), per client IP, and for the whole server. */
  forgotPasswordPerEmail: Limit;
  forgotPasswordPerIp: Limit;
  forgotPasswordGlobal: Limit;
  /** POST /reset-password per client IP. */
  resetPasswordPerIp: Limit;
  lockout: {
    /** Consecutive failures from one IP for one email before that pair is locked. */
    pairThreshold: number;
    /** Consecutive failures for one email, from anywhere, before the account is locked for everyone. */
    accountThreshold: number;
    /** How long failures are remembered (a fixed window from the first one). */
    failureWindowMs: number;
    durationMs: number;
  };
}

/** The header a trusted proxy names the client in. */
export type ProxyHeader = "x-forwarded-for" | "forwarded";

/** A hop count (that many proxies in front, each appending one address) or the proxies' own addresses. */
export type TrustProxy = { hops: number } | { addresses: BlockList; description: string };

export class ConfigError extends Error {
  override name = "ConfigError";
  /** Each problem on its own (loadConfig() reports every bad variable at once; the message lists them). */
  readonly problems: string[];
  constructor(message: string, problems: string[] = [message]) {
    super(message);
    this.problems = problems;
  }
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

function limit(env: Env, name: string, fallback: number, windowName: string, windowFallback: string): Limit {
  return { limit: integer(env, name, fallback, 1, 1_000_000_000), windowMs: duration(env, windowName, windowFallback, 1000) };
}

function lockout(env: Env): RateLimitConfig["lockout"] {
  const pairThreshold = integer(env, "LOCKOUT_THRESHOLD", 10, 1, 1_000_000_000);
  const accountThreshold = integer(env, "LOCKOUT_ACCOUNT_THRESHOLD", 100, 1, 1_000_000_000);
  if (accountThreshold < pairThreshold) {
    throw new ConfigError("LOCKOUT_ACCOUNT_THRESHOLD must not be lower than LOCKOUT_THRESHOLD");
  }
  return {
    pairThreshold,
    accountThreshold,
    failureWindowMs: duration(env, "LOCKOUT_FAILURE_WINDOW", "1h", 1000),
    durationMs: duration(env, "LOCKOUT_DURATION", "15m", 1000),
  };
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

/** BASE_PATH, else the path of PUBLIC_URL (https://example.com/auth -> /auth), else "" (the root). */
function basePath(env: Env): string {
  const fromPublicUrl = env.PUBLIC_URL && URL.canParse(env.PUBLIC_URL) ? new URL(env.PUBLIC_URL).pathname : "";
  const raw = env.BASE_PATH || fromPublicUrl;
  const path = normalizeBasePath(raw);
  if (path === undefined) {
    throw new ConfigError(`${env.BASE_PATH ? "BASE_PATH" : "PUBLIC_URL"} must have a plain path like /auth, got "${raw}"`);
  }
  if (env.BASE_PATH && fromPublicUrl && normalizeBasePath(fromPublicUrl) !== path) {
    throw new ConfigError(`BASE_PATH "${env.BASE_PATH}" differs from the path of PUBLIC_URL "${env.PUBLIC_URL}": set one of them`);
  }
  return path;
}

/** "1" (hop count) or "10.0.0.0/8, 127.0.0.1, ::1" (trusted proxy addresses / CIDR ranges). */
export function parseTrustProxy(raw: string | undefined): TrustProxy | null {
  const value = (raw ?? "").trim();
  if (value === "" || /^(0|false|no|off)$/i.test(value)) return null;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 32) throw new ConfigError(`TRUST_PROXY hop count must be between 0 and 32, got "${raw}"`);
    return { hops };
  }
  const addresses = new BlockList();
  for (const entry of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [address, prefix, extra] = entry.split("/");
    const family = isIP(address ?? "");
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    const max = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || !/^\d+$/.test(prefix ?? "0") || bits > max) {
      throw new ConfigError(
        `TRUST_PROXY must be a hop count (e.g. 1) or a comma-separated list of IP addresses / CIDR ranges (e.g. 10.0.0.0/8,::1), got "${raw}"`,
      );
    }
    addresses.addSubnet(address!, bits, family === 6 ? "ipv6" : "ipv4");
  }
  return { addresses, description: value };
}

/** TRUST_PROXY_HEADER: exactly one header is read, so a client cannot add another that wins. */
function proxyHeader(env: Env): ProxyHeader {
  const raw = (env.TRUST_PROXY_HEADER ?? "").trim().toLowerCase();
  if (raw === "") return "x-forwarded-for";
  if (raw === "x-forwarded-for" || raw === "forwarded") return raw;
  throw new ConfigError(`TRUST_PROXY_HEADER must be x-forwarded-for or forwarded, got "${env.TRUST_PROXY_HEADER}"`);
}

/**
 * A connection URL as it may be printed: its user info (user and password)
 * replaced by `***`, the rest as given. In a URL that parses, the user info
 * ends at the authority's last "@"; one that does not parse (an unencoded "/"
 * or "@" in the password) is masked up to its last "@", so no part shows.
 */
export function maskUrl(raw: string): string {
  const start = raw.indexOf("//");
  if (start < 0) return raw;
  let at: number;
  if (URL.canParse(raw)) {
    const end = raw.slice(start + 2).search(/[/?#]/);
    at = raw.lastIndexOf("@", end < 0 ? raw.length : start + 2 + end);
  } else {
    at = raw.lastIndexOf("@");
  }
  return at > start ? `${raw.slice(0, start + 2)}***${raw.slice(at)}` : raw;
}

/** A postgres:// or redis:// URL, parsed here so that a bad one is a config error with its password masked. */
function connectionUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL (percent-encode "/", "@" and ":" in the password), got "${maskUrl(raw)}"`);
  }
  if (!url.hostname) throw new ConfigError(`${name} needs a host name, got "${maskUrl(raw)}"`);
  return raw;
}

export function parseDatabaseUrl(raw: string): StoreUrl {
  if (raw.startsWith("sqlite:")) {
    const path = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (!path) throw new ConfigError(`DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/latchkey.db`);
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(raw)) return { kind: "postgres", url: connectionUrl("DATABASE_URL", raw) };
  throw new ConfigError(`DATABASE_URL must start with sqlite: or postgres://, got "${maskUrl(raw)}"`);
}

/** Both admin variables or neither; the email and the password obey the same rules as a signup. */
function adminBootstrap(env: Env): Config["adminBootstrap"] {
  const email = env.LATCHKEY_ADMIN_EMAIL;
  const password = env.LATCHKEY_ADMIN_PASSWORD;
  if (!email && !password) return undefined;
  if (!email || !password) {
    throw new ConfigError("LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD must be set together (or neither)");
  }
  const parsedEmail = emailSchema.safeParse(email);
  if (!parsedEmail.success) {
    throw new ConfigError(`LATCHKEY_ADMIN_EMAIL is not usable: ${parsedEmail.error.issues[0]!.message}`);
  }
  // The message names the rule, never the password.
  const parsedPassword = newPasswordSchema.safeParse(password);
  if (!parsedPassword.success) {
    throw new ConfigError(`LATCHKEY_ADMIN_PASSWORD is not usable: ${parsedPassword.error.issues[0]!.message}`);
  }
  return { email: parsedEmail.data, password };
}

function redisUrl(raw: string): string {
  if (!/^rediss?:\/\/./.test(raw)) {
    throw new ConfigError(`REDIS_URL must start with redis:// or rediss://, got "${maskUrl(raw)}"`);
  }
  return connectionUrl("REDIS_URL", raw);
}

/** METRICS_TOKEN: long enough that it cannot be guessed (it guards process and traffic figures). */
function metricsToken(env: Env): string | undefined {
  const token = env.METRICS_TOKEN;
  if (!token) return undefined;
  if (token.length < 32) throw new ConfigError("METRICS_TOKEN must be at least 32 characters (e.g. openssl rand -hex 32)");
  return token;
}

/** DATA_ENCRYPTION_KEY: 32 random bytes as hex or base64 (secret-box.ts). */
function dataKey(env: Env): Buffer | undefined {
  if (!env.DATA_ENCRYPTION_KEY) return undefined;
  const key = parseDataKey(env.DATA_ENCRYPTION_KEY);
  if (!key) throw new ConfigError("DATA_ENCRYPTION_KEY must be 32 random bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)");
  return key;
}

/**
 * JWT_PRIVATE_KEY (an Ed25519 private key as PKCS#8 PEM or JWK JSON) or
 * JWT_SECRET (HS256, at least 32 bytes). Production refuses to start without
 * one: a generated key would differ per instance and silently log everyone out.
 */
function signingKey(env: Env, nodeEnv: Config["env"]): SigningKey | undefined {
  const pem = env.JWT_PRIVATE_KEY?.trim();
  const secret = env.JWT_SECRET;
  if (pem && secret) throw new ConfigError("Set only one of JWT_PRIVATE_KEY and JWT_SECRET");
  if (pem) {
    let privateKey: KeyObject;
    try {
      privateKey = pem.startsWith("{")
        ? createPrivateKey({ key: JSON.parse(pem), format: "jwk" })
        : createPrivateKey({ key: pem.replace(/\\n/g, "\n"), format: "pem" });
    } catch {
      throw new ConfigError("JWT_PRIVATE_KEY must be an Ed25519 private key in PKCS#8 PEM or JWK JSON form");
    }
    if (privateKey.asymmetricKeyType !== "ed25519") {
      throw new ConfigError(`JWT_PRIVATE_KEY must be an Ed25519 key, got ${privateKey.asymmetricKeyType ?? "another type"}`);
    }
    return { alg: "EdDSA", privateKey, publicKey: createPublicKey(privateKey) };
  }
  if (secret !== undefined && secret !== "") {
    if (Buffer.byteLength(secret) < 32) {
      throw new ConfigError("JWT_SECRET must be at least 32 bytes of random data (e.g. openssl rand -base64 32)");
    }
    return { alg: "HS256", secret: createSecretKey(Buffer.from(secret)) };
  }
  if (nodeEnv === "production") {
    throw new ConfigError("JWT_PRIVATE_KEY (Ed25519, PEM or JWK) or JWT_SECRET (>= 32 bytes) is required in production");
  }
  return undefined;
}

/**
 * The configuration, or a ConfigError listing every bad variable. The helpers
 * above throw at the first problem they see (so each stays a plain function,
 * and a variable added later needs nothing more); to find the others, a
 * failed read sets aside the variables its message names (their defaults
 * apply) and reads again. A problem that names no variable that is still set
 * (e.g. a required one missing) ends the search; one that names a variable
 * already set aside is its consequence, and is not reported again.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const remaining: Env = { ...env };
  const setAside = new Set<string>();
  for (;;) {
    let config: Config;
    try {
      config = readConfig(remaining);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const named = [...new Set(err.message.match(/\b[A-Z][A-Z0-9_]{2,}\b/g) ?? [])].filter((v) => v in env);
      const live = named.filter((v) => remaining[v] !== undefined && remaining[v] !== "");
      // A problem involving a variable already set aside is a consequence of that (e.g. "set together"), not news.
      if (!named.some((v) => setAside.has(v))) problems.push(err.message);
      if (live.length === 0) break;
      for (const v of live) {
        delete remaining[v];
        setAside.add(v);
      }
      continue;
    }
    if (problems.length === 0) return config;
    break;
  }
  throw new ConfigError(
    problems.length === 1 ? problems[0]! : `${problems.length} configuration problems:\n  ${problems.join("\n  ")}`,
    problems,
  );
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function logLevel(env: Env, nodeEnv: Config["env"]): string {
  const level = env.LOG_LEVEL || (nodeEnv === "test" ? "silent" : "info");
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
  return level;
}

/** One of a few words (`fallback` when unset), or the ConfigError naming them: "must be a, b or c". */
function oneOf<const T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name] || fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const words = allowed.length > 1 ? `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}` : allowed[0];
  throw new ConfigError(`${name} must be ${words}, got "${value}"`);
}

function readConfig(env: Env): Config {
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
  const refreshTtlMs = duration(env, "REFRESH_TOKEN_TTL", "30d", 60_000);
  const refreshAbsoluteLifetimeMs = duration(env, "REFRESH_TOKEN_ABSOLUTE_LIFETIME", "90d", 60_000);
  if (refreshTtlMs > refreshAbsoluteLifetimeMs) {
    throw new ConfigError("REFRESH_TOKEN_TTL must not be longer than REFRESH_TOKEN_ABSOLUTE_LIFETIME");
  }
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) {
    throw new ConfigError(`SMTP_URL must start with smtp:// or smtps://, got "${maskUrl(smtpUrl)}"`);
  }
  if (smtpUrl && nodeEnv === "production" && !publicUrl) {
    throw new ConfigError("PUBLIC_URL is required in production to build password-reset links");
  }

  return {
    env: nodeEnv,
    port: integer(env, "PORT", 3000, 0, 65535),
    host: env.HOST || undefined,
    database: parseDatabaseUrl(env.DATABASE_URL || "sqlite:./data/latchkey.db"),
    store: {
      autoMigrate: boolean(env, "AUTO_MIGRATE", true),
      poolSize: integer(env, "PG_POOL_SIZE", 10, 1, 1000),
      connectTimeoutMs: duration(env, "STORE_CONNECT_TIMEOUT", "3s", 100),
      queryTimeoutMs: duration(env, "STORE_QUERY_TIMEOUT", "5s", 100),
    },
    redis: env.REDIS_URL ? { url: redisUrl(env.REDIS_URL), prefix: env.REDIS_PREFIX || "latchkey:" } : undefined,
    publicUrl,
    basePath: basePath(env),
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
      maxQueue: integer(env, "ARGON2_MAX_QUEUE", 64, 0, 100_000),
    },
    rateLimits: {
      loginPerIp: limit(env, "LOGIN_IP_LIMIT", 20, "LOGIN_IP_WINDOW", "1m"),
      loginPerEmail: limit(env, "LOGIN_EMAIL_LIMIT", 5, "LOGIN_EMAIL_WINDOW", "1m"),
      signupPerIp: limit(env, "SIGNUP_IP_LIMIT", 10, "SIGNUP_IP_WINDOW", "1h"),
      forgotPasswordPerEmail: limit(env, "FORGOT_PASSWORD_LIMIT", 3, "FORGOT_PASSWORD_WINDOW", "1h"),
      forgotPasswordPerIp: limit(env, "FORGOT_PASSWORD_IP_LIMIT", 10, "FORGOT_PASSWORD_IP_WINDOW", "1h"),
      forgotPasswordGlobal: limit(env, "FORGOT_PASSWORD_GLOBAL_LIMIT", 1000, "FORGOT_PASSWORD_GLOBAL_WINDOW", "1h"),
      resetPasswordPerIp: limit(env, "RESET_PASSWORD_IP_LIMIT", 10, "RESET_PASSWORD_IP_WINDOW", "15m"),
      lockout: lockout(env),
    },
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    trustProxyHeader: proxyHeader(env),
    rejectCommonPasswords: boolean(env, "PASSWORD_REJECT_COMMON", nodeEnv === "production"),
    bodyLimitBytes: integer(env, "BODY_LIMIT_BYTES", 16 * 1024, 256, 10 * 1024 * 1024),
    pagesEnabled: boolean(env, "PAGES_ENABLED", true),
    logLevel: logLevel(env, nodeEnv),
    logFormat: oneOf(env, "LOG_FORMAT", ["auto", "json", "pretty"], "auto"),
    accessLog: boolean(env, "ACCESS_LOG", true),
    shutdownGraceMs: duration(env, "SHUTDOWN_GRACE", "10s", 0),
    headersTimeoutMs: duration(env, "HEADERS_TIMEOUT", "10s", 1000),
    requestTimeoutMs: duration(env, "REQUEST_TIMEOUT", "30s", 1000),
    adminBootstrap: adminBootstrap(env),
    tokens: {
      signingKey: signingKey(env, nodeEnv),
      issuer: env.JWT_ISSUER || publicUrl || "latchkey",
      audience: env.JWT_AUDIENCE || "latchkey",
      accessTtlMs: duration(env, "ACCESS_TOKEN_TTL", "15m", 1000),
      refreshTtlMs,
      refreshAbsoluteLifetimeMs,
    },
    passwordReset: { ttlMs: duration(env, "PASSWORD_RESET_TTL", "1h", 60_000) },
    signup: oneOf(env, "SIGNUP", ["open", "invite"], "open"),
    impersonationMaxMs: duration(env, "IMPERSONATION_MAX", "1h", 60_000),
    invitations: { ttlMs: duration(env, "INVITE_TTL", "7d", 60_000) },
    emailVerification: { mode: oneOf(env, "EMAIL_VERIFICATION", ["off", "optional", "required"], "optional"), ttlMs: duration(env, "EMAIL_VERIFICATION_TTL", "24h", 60_000) },
    notices: {
      passwordChanged: boolean(env, "NOTIFY_PASSWORD_CHANGED", true),
      newDevice: boolean(env, "NOTIFY_NEW_DEVICE", true),
      emailChanged: boolean(env, "NOTIFY_EMAIL_CHANGED", true),
      mfaChanged: boolean(env, "NOTIFY_MFA_CHANGED", true),
      impersonation: boolean(env, "NOTIFY_IMPERSONATION", true),
    },
    mail: { smtpUrl, from: env.MAIL_FROM || "Latchkey <no-reply@localhost>" },
    mfa: {
      dataKey: dataKey(env),
      issuer: env.MFA_ISSUER || "Latchkey",
      reauthMaxAgeMs: duration(env, "REAUTH_MAX_AGE", "10m", 60_000),
      requiredForAdmins: boolean(env, "MFA_REQUIRED_FOR_ADMINS", false),
    },
    events: { retentionMs: duration(env, "EVENTS_RETENTION", "90d", 60_000) },
    metricsToken: metricsToken(env),
    webhooks: parseWebhookConfig(env, {
      production: nodeEnv === "production",
      eventsRetentionMs: parseDuration("EVENTS_RETENTION", env.EVENTS_RETENTION || "90d"),
    }),
  };
}
