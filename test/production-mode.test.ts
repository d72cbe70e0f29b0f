// Production cookies: __Host- prefix and Secure, cleared with the very same name and attributes; HSTS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

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
