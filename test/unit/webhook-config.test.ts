// WEBHOOK_* parsing: the accepted forms, the refusals (each naming its
// variable), and that neither a secret nor a URL's credentials are echoed.
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

const secret = (bytes = 32) => `whsec_${randomBytes(bytes).toString("base64")}`;
const problem = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("loadConfig accepted it");
};

describe("webhook configuration", () => {
  it("is off without WEBHOOK_URL", () => {
    expect(loadConfig({}).webhooks).toBeNull();
  });

  it("takes several URLs (commas or spaces) and documented defaults", () => {
    const c = loadConfig({ WEBHOOK_URL: "https://a.example.com/hook, http://127.0.0.1:9000/x  https://b.example.com/h?token=t", WEBHOOK_SECRET: secret() });
    expect(c.webhooks).toMatchObject({
      urls: ["https://a.example.com/hook", "http://127.0.0.1:9000/x", "https://b.example.com/h?token=t"],
      maxAgeMs: 24 * 3_600_000,
      timeoutMs: 10_000,
      pollIntervalMs: 1000,
    });
    const set = loadConfig({ WEBHOOK_URL: "https://a.example.com/", WEBHOOK_SECRET: secret(24), WEBHOOK_MAX_AGE: "2h", WEBHOOK_TIMEOUT: "3s", WEBHOOK_POLL_INTERVAL: "50ms" });
    expect(set.webhooks).toMatchObject({ maxAgeMs: 7_200_000, timeoutMs: 3000, pollIntervalMs: 50 });
  });

  it("refuses other schemes, relative URLs and credentials in a URL, without echoing the credentials", () => {
    expect(problem({ WEBHOOK_URL: "ftp://a.example.com/", WEBHOOK_SECRET: secret() })).toMatch(/^WEBHOOK_URL must be http or https/);
    expect(problem({ WEBHOOK_URL: "/hook", WEBHOOK_SECRET: secret() })).toMatch(/^WEBHOOK_URL must be absolute/);
    const withCreds = problem({ WEBHOOK_URL: "https://bob:hunter2@a.example.com/hook", WEBHOOK_SECRET: secret() });
    expect(withCreds).toMatch(/WEBHOOK_URL must not carry credentials/);
    expect(withCreds).not.toContain("hunter2");
  });

  it("requires https in production, except to a loopback address", () => {
    const base = { NODE_ENV: "production", JWT_SECRET: "x".repeat(32), WEBHOOK_SECRET: secret() };
    expect(problem({ ...base, WEBHOOK_URL: "http://hooks.example.com/" })).toMatch(/WEBHOOK_URL must be https in production/);
    expect(loadConfig({ ...base, WEBHOOK_URL: "http://127.0.0.1:8080/h" }).webhooks?.urls).toEqual(["http://127.0.0.1:8080/h"]);
  });

  it("requires a whsec_ secret of 24 to 64 bytes, and never shows it", () => {
    const url = "https://a.example.com/hook";
    expect(problem({ WEBHOOK_URL: url })).toMatch(/WEBHOOK_SECRET is required when WEBHOOK_URL is set/);
    for (const bad of [secret(16), secret(65), "s3cr3t-value-that-is-long-enough-but-not-whsec", "whsec_not base64!"]) {
      const message = problem({ WEBHOOK_URL: url, WEBHOOK_SECRET: bad });
      expect(message).toMatch(/WEBHOOK_SECRET must be whsec_/);
      expect(message).not.toContain(bad.slice(6));
    }
    expect(problem({ WEBHOOK_SECRET: secret() })).toMatch(/WEBHOOK_SECRET is set but WEBHOOK_URL is not/);
    // The parsed key prints as an opaque object: a logged config cannot leak it.
    const value = secret();
    const c = loadConfig({ WEBHOOK_URL: url, WEBHOOK_SECRET: value });
    expect(inspect(c, { depth: 10 })).not.toContain(value.slice(6));
    expect(JSON.stringify(c)).not.toContain(value.slice(6));
  });

  it("refuses a bad duration, and a maximum age shorter than one attempt", () => {
    const env = { WEBHOOK_URL: "https://a.example.com/", WEBHOOK_SECRET: secret() };
    expect(problem({ ...env, WEBHOOK_MAX_AGE: "soon" })).toMatch(/^WEBHOOK_MAX_AGE must be a duration/);
    expect(problem({ ...env, WEBHOOK_TIMEOUT: "1m", WEBHOOK_MAX_AGE: "30s" })).toMatch(/WEBHOOK_MAX_AGE must not be shorter than WEBHOOK_TIMEOUT/);
    expect(problem({ ...env, WEBHOOK_MAX_AGE: "7d", EVENTS_RETENTION: "7d" })).toMatch(/WEBHOOK_MAX_AGE must be shorter than EVENTS_RETENTION/);
    expect(loadConfig({ ...env, WEBHOOK_MAX_AGE: "7d", EVENTS_RETENTION: "8d" }).webhooks?.maxAgeMs).toBe(7 * 86_400_000);
  });
});
