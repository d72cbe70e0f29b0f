import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, maskUrl, parseDuration } from "../../src/config.js";

describe("configuration", () => {
  it("has documented defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database).toEqual({ kind: "sqlite", path: "./data/latchkey.db" });
    expect(c.session.idleTimeoutMs).toBe(7 * 86_400_000);
    expect(c.session.absoluteLifetimeMs).toBe(30 * 86_400_000);
    expect(c.session.touchIntervalMs).toBe(3_600_000);
    expect(c.argon2).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(c.secureCookies).toBe(false);
    expect(c.bodyLimitBytes).toBe(16384);
  });

  it("has the documented password-reset limits and proxy header", () => {
    const c = loadConfig({});
    expect(c.rateLimits.forgotPasswordPerEmail).toEqual({ limit: 3, windowMs: 3_600_000 });
    expect(c.rateLimits.forgotPasswordPerIp).toEqual({ limit: 10, windowMs: 3_600_000 });
    expect(c.rateLimits.forgotPasswordGlobal).toEqual({ limit: 1000, windowMs: 3_600_000 });
    expect(c.rateLimits.resetPasswordPerIp).toEqual({ limit: 10, windowMs: 900_000 });
    expect(c.trustProxyHeader).toBe("x-forwarded-for");
    const set = loadConfig({
      FORGOT_PASSWORD_LIMIT: "1",
      FORGOT_PASSWORD_WINDOW: "10m",
      FORGOT_PASSWORD_IP_LIMIT: "2",
      FORGOT_PASSWORD_IP_WINDOW: "20m",
      FORGOT_PASSWORD_GLOBAL_LIMIT: "3",
      FORGOT_PASSWORD_GLOBAL_WINDOW: "1d",
      RESET_PASSWORD_IP_LIMIT: "4",
      RESET_PASSWORD_IP_WINDOW: "1h",
      TRUST_PROXY_HEADER: "forwarded",
    });
    expect(set.rateLimits.forgotPasswordPerEmail).toEqual({ limit: 1, windowMs: 600_000 });
    expect(set.rateLimits.forgotPasswordPerIp).toEqual({ limit: 2, windowMs: 1_200_000 });
    expect(set.rateLimits.forgotPasswordGlobal).toEqual({ limit: 3, windowMs: 86_400_000 });
    expect(set.rateLimits.resetPasswordPerIp).toEqual({ limit: 4, windowMs: 3_600_000 });
    expect(set.trustProxyHeader).toBe("forwarded");
  });

  it("parses durations", () => {
    expect(parseDuration("X", "90")).toBe(90_000);
    expect(parseDuration("X", "15m")).toBe(900_000);
    expect(parseDuration("X", "250ms")).toBe(250);
    expect(parseDuration("X", "7d")).toBe(604_800_000);
  });

  it.each([
    [{ PORT: "abc" }, 'PORT must be a whole number between 0 and 65535, got "abc"'],
    [{ PORT: "70000" }, 'PORT must be a whole number between 0 and 65535, got "70000"'],
    [{ DATABASE_URL: "mysql://x" }, 'DATABASE_URL must start with sqlite: or postgres://, got "mysql://x"'],
    [{ SESSION_IDLE_TIMEOUT: "soon" }, 'SESSION_IDLE_TIMEOUT must be a duration like 90s, 15m, 1h or 7d, got "soon"'],
    [{ SESSION_IDLE_TIMEOUT: "60d" }, "SESSION_IDLE_TIMEOUT must not be longer than SESSION_ABSOLUTE_LIFETIME"],
    [{ PUBLIC_URL: "not a url" }, 'PUBLIC_URL must be an absolute http(s) URL, got "not a url"'],
    [{ ALLOW_SAME_SITE: "maybe" }, 'ALLOW_SAME_SITE must be true or false, got "maybe"'],
    [{ FORGOT_PASSWORD_GLOBAL_LIMIT: "0" }, 'FORGOT_PASSWORD_GLOBAL_LIMIT must be a whole number between 1 and 1000000000, got "0"'],
    [{ RESET_PASSWORD_IP_WINDOW: "soon" }, 'RESET_PASSWORD_IP_WINDOW must be a duration like 90s, 15m, 1h or 7d, got "soon"'],
    [{ TRUST_PROXY_HEADER: "x-real-ip" }, 'TRUST_PROXY_HEADER must be x-forwarded-for or forwarded, got "x-real-ip"'],
  ])("fails fast on %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(new ConfigError(message));
  });

  it("turns on secure cookies in production or behind an https public URL", () => {
    expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32) }).secureCookies).toBe(true); // production needs a signing key
    expect(loadConfig({ PUBLIC_URL: "https://a.example" }).secureCookies).toBe(true);
    expect(loadConfig({ PUBLIC_URL: "http://localhost:3000" }).secureCookies).toBe(false);
  });

  it("never echoes database credentials in an error", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://user:secret@host/db" })).toThrow(/mysql:\/\/\*\*\*@host\/db/);
  });

  it("lists every bad variable at once, each with its own message", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: "abc", LOG_LEVEL: "verbose", SESSION_IDLE_TIMEOUT: "soon", REDIS_URL: "http://x" });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'SESSION_IDLE_TIMEOUT must be a duration like 90s, 15m, 1h or 7d, got "soon"',
      'PORT must be a whole number between 0 and 65535, got "abc"',
      'REDIS_URL must start with redis:// or rediss://, got "http://x"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ]);
    expect(error!.message).toBe(`4 configuration problems:\n  ${error!.problems.join("\n  ")}`);
  });

  it("reports a problem once, not again as a consequence of setting its variables aside", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), JWT_PRIVATE_KEY: "pem", PORT: "-1" });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error!.problems).toEqual([
      'PORT must be a whole number between 0 and 65535, got "-1"',
      "Set only one of JWT_PRIVATE_KEY and JWT_SECRET",
    ]);
  });

  it("refuses an unknown LOG_LEVEL with a message instead of dying in the logger", () => {
    expect(() => loadConfig({ LOG_LEVEL: "verbose" })).toThrow('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"');
  });

  describe("connection URLs never show their password", () => {
    it.each([
      ["postgres://app:s3cret@db:5432/app", "postgres://***@db:5432/app"],
      ["postgres://app:se%2Fcr%40t%3A1@db/app?sslmode=require", "postgres://***@db/app?sslmode=require"],
      ["redis://:s3cret@cache:6379", "redis://***@cache:6379"],
      ["postgres://db/app?application_name=a@b", "postgres://db/app?application_name=a@b"],
      // Unparsable (an unencoded "/" and "@" in the password): everything up to the last "@" goes.
      ["postgres://app:se/cr@t@db:5432/app", "postgres://***@db:5432/app"],
      ["postgres://app:a@b:c/d@db/app", "postgres://***@db/app"],
    ])("%s", (raw, shown) => {
      expect(maskUrl(raw)).toBe(shown);
    });

    it("refuses an unparsable postgres:// or redis:// URL with the password masked", () => {
      let error: unknown;
      try {
        loadConfig({ DATABASE_URL: "postgres://app:se/cr@t@db:5432/app", REDIS_URL: "redis://:p/w@x@cache:6379" });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      expect(message).toContain('DATABASE_URL is not a valid URL (percent-encode "/", "@" and ":" in the password), got "postgres://***@db:5432/app"');
      expect(message).toContain('REDIS_URL is not a valid URL (percent-encode "/", "@" and ":" in the password), got "redis://***@cache:6379"');
      for (const secret of ["se/cr", "cr@t", "p/w"]) expect(message).not.toContain(secret);
    });
  });
});

describe("parsePostgresUrl (library callers that skip loadConfig)", () => {
  it("refuses an unparsable URL with a ConfigError that hides the password", async () => {
    const { parsePostgresUrl } = await import("../../src/store/postgres/index.js");
    expect(() => parsePostgresUrl("postgres://app:hun/ter2@db:5432/app")).toThrow(
      new ConfigError('DATABASE_URL is not a valid URL, got "postgres://***@db:5432/app"'),
    );
  });
});
