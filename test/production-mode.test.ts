// Production cookies: __Host- prefix and Secure, cleared with the very same name and attributes; HSTS.
// Second factors in production: none without DATA_ENCRYPTION_KEY, and no start without it once one is stored.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base32Decode, totpAt } from "../src/auth/totp.js";
import { client, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, tempDir, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { NODE_ENV: "production", PUBLIC_URL: "https://auth.example.com", JWT_SECRET: "production-mode-test-secret-of-32-bytes+" } });
});
afterAll(() => srv.destroy());

describe("in production", () => {
  it("sets and clears a __Host-session cookie with Secure", async () => {
    const email = uniqueEmail();
    const same = { origin: "https://auth.example.com" };
    await request(srv.url, "POST", "/signup", { body: { email, password: "password123" }, headers: same });
    const login = await request(srv.url, "POST", "/login", { body: { email, password: "password123" }, headers: same });
    expect(login.setCookie).toMatch(/^__Host-session=[A-Za-z0-9_-]{43}; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=2592000$/);
    expect(login.setCookie).not.toMatch(/Domain/i);

    const cookie = cookiePair(login.setCookie);
    expect((await request(srv.url, "GET", "/me", { cookie })).status).toBe(200);
    // A plain "session" cookie means nothing in production.
    expect((await request(srv.url, "GET", "/me", { cookie: cookie.replace("__Host-session", "session") })).status).toBe(401);

    const logout = await request(srv.url, "POST", "/logout", { cookie, headers: same });
    expect(logout.setCookie).toBe("__Host-session=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0");
    expect((await request(srv.url, "GET", "/me", { cookie })).status).toBe(401);
  });

  it("sends HSTS", async () => {
    const res = await request(srv.url, "GET", "/healthz");
    expect(res.headers.get("strict-transport-security")).toBe("max-age=63072000; includeSubDomains");
  });

  it("trusts only the public origin for cross-site checks", async () => {
    const res = await request(srv.url, "POST", "/logout", { headers: { origin: srv.url } });
    expect(res.status).toBe(403);
  });
});

describe("second factors in production", () => {
  const PUBLIC = "https://auth.example.com";
  const same = { origin: PUBLIC };
  const KEY = Buffer.alloc(32, 7).toString("base64");
  const production = (dir: string, extra: Record<string, string> = {}) => ({
    NODE_ENV: "production", PUBLIC_URL: PUBLIC, JWT_SECRET: "production-mode-test-secret-of-32-bytes+", DATABASE_URL: `sqlite:${join(dir, "p.db")}`, ...extra,
  });

  it("refuses to enrol without DATA_ENCRYPTION_KEY (503), and with a stored secret refuses to start without it", async () => {
    const dir = tempDir();
    const email = uniqueEmail("prod-mfa");
    try {
      const keyless = await startTestServer({ env: production(dir.path) });
      const browser = client(keyless.url);
      await browser.post("/signup", { email, password: "password123" }, { headers: same });
      await browser.post("/login", { email, password: "password123" }, { headers: same });
      const refused = await browser.post("/mfa/totp/setup", undefined, { headers: same });
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: "Two-factor authentication is unavailable: the server has no DATA_ENCRYPTION_KEY" });
      await keyless.close();

      const keyed = await startTestServer({ env: production(dir.path, { DATA_ENCRYPTION_KEY: KEY }), clock: keyless.clock });
      const again = client(keyed.url);
      await again.post("/login", { email, password: "password123" }, { headers: same });
      const secret = base32Decode((await again.post("/mfa/totp/setup", undefined, { headers: same })).body.secret)!;
      keyed.clock.advance(30_000);
      expect((await again.post("/mfa/totp/enable", { code: totpAt(secret, keyed.clock()) }, { headers: same })).status).toBe(200);
      const login = await request(keyed.url, "POST", "/login", { body: { email, password: "password123" }, headers: same });
      expect(login.setCookie).toMatch(/^__Host-mfa_challenge=[A-Za-z0-9_-]{43}; HttpOnly; Secure; SameSite=Lax; Path=\/; Max-Age=300$/);
      await keyed.close();

      await expect(startTestServer({ env: production(dir.path), clock: keyed.clock })).rejects.toThrow(/DATA_ENCRYPTION_KEY is not set/);
      // Another key would open nothing: the start names both keys' ids (never a key).
      const otherKey = Buffer.alloc(32, 9).toString("hex");
      const wrong = startTestServer({ env: production(dir.path, { DATA_ENCRYPTION_KEY: otherKey }), clock: keyed.clock });
      await expect(wrong).rejects.toThrow(/^DATA_ENCRYPTION_KEY \(key [0-9a-f]{8}\) is not the key the stored second-factor secrets were sealed with \(key [0-9a-f]{8}\)$/);
      await expect(wrong).rejects.not.toThrow(new RegExp(`${otherKey}|${KEY.replace(/[+/=]/g, ".")}`));
      const back = await startTestServer({ env: production(dir.path, { DATA_ENCRYPTION_KEY: KEY }), clock: keyed.clock });
      try {
        const browser2 = client(back.url);
        await browser2.post("/login", { email, password: "password123" }, { headers: same });
        back.clock.advance(30_000);
        expect((await browser2.post("/login/mfa", { code: totpAt(secret, back.clock()) }, { headers: same })).status).toBe(200);
      } finally {
        await back.close();
      }
    } finally {
      dir.remove();
    }
  });
});
