// WEBHOOK_* environment -> WebhookConfig, or a ConfigError naming the
// variable. The secret becomes a KeyObject at once: it prints as
// "SecretKeyObject {}", so no log line or error can carry it by accident.
import { createSecretKey, type KeyObject } from "node:crypto";
import { ConfigError, maskUrl, parseDuration } from "../config.js";

export interface WebhookConfig {
  /** Each event goes to every one of these, independently (one outbox row per endpoint). */
  urls: string[];
  /** The Standard Webhooks signing key (the bytes of whsec_<base64>). */
  key: KeyObject;
  /** A delivery still failing this long after it entered the outbox is marked failed. */
  maxAgeMs: number;
  /** One attempt's limit, connection to the last byte of the answer. */
  timeoutMs: number;
  /** How often an idle deliverer looks for new events. */
  pollIntervalMs: number;
}

type Env = Record<string, string | undefined>;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** One WEBHOOK_URL entry: absolute http(s), no user info (fetch refuses it, and it would end up in the outbox). */
function endpoint(raw: string, production: boolean): string {
  // Only the masked form is ever echoed: a URL may carry credentials.
  const shown = maskUrl(raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`WEBHOOK_URL must be absolute http(s) URLs separated by commas or spaces, got "${shown}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`WEBHOOK_URL must be http or https URLs, got "${shown}"`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`WEBHOOK_URL must not carry credentials (user:password@); put a token in the path or query instead, got "${shown}"`);
  }
  // Events carry client addresses and user agents: outside the machine they travel encrypted.
  if (production && url.protocol === "http:" && !LOOPBACK.test(url.hostname)) {
    throw new ConfigError(`WEBHOOK_URL must be https in production (plain http only to a loopback address), got "${shown}"`);
  }
  return url.toString();
}

/** whsec_<base64 of 24 to 64 random bytes>, as Standard Webhooks libraries generate and expect. */
function signingKey(raw: string | undefined): KeyObject {
  const format = "WEBHOOK_SECRET must be whsec_ followed by 24 to 64 random bytes in base64 (e.g. echo whsec_$(openssl rand -base64 32))";
  if (!raw) throw new ConfigError(`WEBHOOK_SECRET is required when WEBHOOK_URL is set; ${format.slice("WEBHOOK_SECRET ".length)}`);
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(raw.trim());
  // The message describes the expected form only: never the value.
  if (!match) throw new ConfigError(format);
  const bytes = Buffer.from(match[1]!, "base64");
  if (bytes.length < 24 || bytes.length > 64) throw new ConfigError(format);
  return createSecretKey(bytes);
}

function duration(env: Env, name: string, fallback: string, minMs: number): number {
  const ms = parseDuration(name, env[name] || fallback);
  if (ms < minMs) throw new ConfigError(`${name} must be at least ${minMs} ms, got "${env[name]}"`);
  return ms;
}

/** null: webhooks off (no WEBHOOK_URL). */
export function parseWebhookConfig(env: Env, context: { production: boolean; eventsRetentionMs: number }): WebhookConfig | null {
  const { production } = context;
  const entries = (env.WEBHOOK_URL ?? "").split(/[\s,]+/).filter(Boolean);
  if (entries.length === 0) {
    if (env.WEBHOOK_SECRET) throw new ConfigError("WEBHOOK_SECRET is set but WEBHOOK_URL is not: set both, or neither");
    return null;
  }
  const urls = [...new Set(entries.map((e) => endpoint(e, production)))];
  const timeoutMs = duration(env, "WEBHOOK_TIMEOUT", "10s", 100);
  const maxAgeMs = duration(env, "WEBHOOK_MAX_AGE", "24h", 1000);
  if (maxAgeMs < timeoutMs) throw new ConfigError("WEBHOOK_MAX_AGE must not be shorter than WEBHOOK_TIMEOUT");
  // Pruning an event deletes its deliveries (ON DELETE CASCADE): one still being retried would vanish unsent.
  if (maxAgeMs >= context.eventsRetentionMs) {
    throw new ConfigError("WEBHOOK_MAX_AGE must be shorter than EVENTS_RETENTION: a pruned event takes its pending deliveries with it");
  }
  return {
    urls,
    key: signingKey(env.WEBHOOK_SECRET),
    maxAgeMs,
    timeoutMs,
    pollIntervalMs: duration(env, "WEBHOOK_POLL_INTERVAL", "1s", 10),
  };
}
