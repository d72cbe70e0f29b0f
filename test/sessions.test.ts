// Sessions a user can see and end: GET /sessions, DELETE /sessions/:id,
// POST /sessions/revoke-others, POST /logout-all, over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerLogin, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.destroy());

const PASSWORD = "password123";
const COOKIE_CLEAR = "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0";
const DAY = 86_400_000;
const CROSS_SITE = { "sec-fetch-site": "cross-site" };

async function signup(): Promise<string> {
  const email = uniqueEmail();
  expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  return email;
}

/** A fresh login: its cookie pair ("session=..."). */
async function login(email: string, userAgent = "test-agent/1"): Promise<string> {
  const res = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD }, headers: { "user-agent": userAgent } });
  expect(res.status).toBe(200);
  return cookiePair(res.setCookie);
}

const me = async (cookie: string) => (await request(srv.url, "GET", "/me", { cookie })).status;
const list = (cookie: string) => request(srv.url, "GET", "/sessions", { cookie });

describe("GET /sessions", () => {
  it("lists the user's live sessions by public id, marks the current one, and never shows a token or hash", async () => {
    const email = await signup();
    const a = await login(email, "browser-A");
    const b = await login(email, "browser-B");
    const res = await list(b);
    expect(res.status).toBe(200);
    expect(res.body.sessions).toHaveLength(2);
    for (const s of res.body.sessions) {
      expect(Object.keys(s).sort()).toEqual(["aal", "authenticatedAt", "createdAt", "current", "expiresAt", "id", "impersonatorId", "ip", "lastSeenAt", "userAgent"]);
      expect(s.impersonatorId).toBeNull();
      expect(s.aal).toBe("aal1"); // a password log-in
      expect(s.authenticatedAt).toBe(s.createdAt);
      expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(s.ip).toBe("127.0.0.1");
      // Idle expiry comes first: last seen + 7 days.
      expect(Date.parse(s.expiresAt) - Date.parse(s.lastSeenAt)).toBe(7 * DAY);
      expect(new Date(s.createdAt).toISOString()).toBe(s.createdAt);
    }
    const current = res.body.sessions.filter((s: { current: boolean }) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0].userAgent).toBe("browser-B");
    expect(res.body.sessions.find((s: { current: boolean }) => !s.current).userAgent).toBe("browser-A");
    // Neither token appears anywhere in the body.
    for (const cookie of [a, b]) expect(res.text).not.toContain(cookie.split("=")[1]);
    expect(res.text).not.toMatch(/[0-9a-f]{64}/); // no SHA-256 hex
  });

  it("shows only the user's own sessions", async () => {
    const mine = await login(await signup());
    await login(await signup()); // someone else
    const res = await list(mine);
    expect(res.body.sessions).toHaveLength(1);
    expect(res.body.sessions[0].current).toBe(true);
  });

  it("leaves out sessions that have expired but are not pruned yet", async () => {
    const email = await signup();
    const old = await login(email);
    srv.clock.advance(6 * DAY);
    const fresh = await login(email);
    srv.clock.advance(2 * DAY); // old: idle 8 days (expired); fresh: idle 2 days
    const userId = (await request(srv.url, "GET", "/me", { cookie: fresh })).body.user.id;
    expect(await srv.latchkey.store.listUserSessions(userId)).toHaveLength(2); // the row is still there
    const res = await list(fresh);
    expect(res.body.sessions).toHaveLength(1);
    expect(res.body.sessions[0].current).toBe(true);
    expect(await me(old)).toBe(401);
  });

  it("is 401 without a session", async () => {
    const res = await request(srv.url, "GET", "/sessions");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Unauthorized" });
  });
});

describe("DELETE /sessions/:id", () => {
  it("ends one of the user's other sessions; the current one keeps working", async () => {
    const email = await signup();
    const a = await login(email);
    const b = await login(email);
    const other = (await list(b)).body.sessions.find((s: { current: boolean }) => !s.current);
    const res = await request(srv.url, "DELETE", `/sessions/${other.id}`, { cookie: b });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Session revoked" });
    expect(res.setCookie).toBeNull();
    expect(await me(a)).toBe(401);
    expect(await me(b)).toBe(200);
    expect((await list(b)).body.sessions).toHaveLength(1);
    // Again: it is gone.
    expect((await request(srv.url, "DELETE", `/sessions/${other.id}`, { cookie: b })).status).toBe(404);
  });

  it("answers 404 for another user's session and leaves it alive", async () => {
    const mallory = await login(await signup());
    const victim = await login(await signup());
    const victimSessionId = (await list(victim)).body.sessions[0].id;
    const res = await request(srv.url, "DELETE", `/sessions/${victimSessionId}`, { cookie: mallory });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Session not found" });
    expect(await me(victim)).toBe(200);
  });

  it("answers 404 for an unknown id", async () => {
    const cookie = await login(await signup());
    const res = await request(srv.url, "DELETE", "/sessions/no-such-session", { cookie });
    expect(res.status).toBe(404);
    expect(await me(cookie)).toBe(200);
  });

  it("ending the current session logs this browser out and clears its cookie", async () => {
    const cookie = await login(await signup());
    const id = (await list(cookie)).body.sessions[0].id;
    const res = await request(srv.url, "DELETE", `/sessions/${id}`, { cookie });
    expect(res.status).toBe(200);
    expect(res.setCookie).toBe(COOKIE_CLEAR);
    expect(await me(cookie)).toBe(401);
  });

  it("is 401 without a session, and 403 cross-site with nothing ended", async () => {
    expect((await request(srv.url, "DELETE", "/sessions/anything")).status).toBe(401);
    const email = await signup();
    const a = await login(email);
    const b = await login(email);
    const other = (await list(b)).body.sessions.find((s: { current: boolean }) => !s.current);
    const res = await request(srv.url, "DELETE", `/sessions/${other.id}`, { cookie: b, headers: CROSS_SITE });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "Cross-site request refused" });
    expect(await me(a)).toBe(200);
  });
});

describe("POST /sessions/revoke-others", () => {
  it("ends every session but this one and says how many", async () => {
    const email = await signup();
    const others = [await login(email), await login(email), await login(email)];
    const current = await login(email);
    const bystander = await login(await signup());
    const res = await request(srv.url, "POST", "/sessions/revoke-others", { cookie: current });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 3 });
    for (const cookie of others) expect(await me(cookie)).toBe(401);
    expect(await me(current)).toBe(200);
    expect(await me(bystander)).toBe(200);
    expect((await list(current)).body.sessions).toHaveLength(1);
  });

  it("is 401 without a session, and 403 cross-site with nothing ended", async () => {
    expect((await request(srv.url, "POST", "/sessions/revoke-others")).status).toBe(401);
    const email = await signup();
    const other = await login(email);
    const current = await login(email);
    const res = await request(srv.url, "POST", "/sessions/revoke-others", { cookie: current, headers: CROSS_SITE });
    expect(res.status).toBe(403);
    expect(await me(other)).toBe(200);
  });
});

describe("bearer clients are sessions too", () => {
  it("revoke-others and logout-all end the user's bearer tokens as well", async () => {
    for (const path of ["/sessions/revoke-others", "/logout-all"]) {
      const email = await signup();
      const cookie = await login(email);
      const bearer = await bearerLogin(srv.url, email, PASSWORD);
      expect(await bearer.accessWorks()).toBe(true);
      srv.clock.advance(1000); // access tokens carry whole seconds
      expect((await request(srv.url, "POST", path, { cookie })).status).toBe(200);
      expect(await bearer.accessWorks(), path).toBe(false);
      expect(await bearer.refreshWorks(), path).toBe(false);
    }
  });
});

describe("POST /logout-all", () => {
  it("ends every session including this one and clears the cookie", async () => {
    const email = await signup();
    const a = await login(email);
    const b = await login(email);
    const bystander = await login(await signup());
    const res = await request(srv.url, "POST", "/logout-all", { cookie: b });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Logged out everywhere", revoked: 2 });
    expect(res.setCookie).toBe(COOKIE_CLEAR);
    expect(await me(a)).toBe(401);
    expect(await me(b)).toBe(401);
    expect(await me(bystander)).toBe(200);
  });

  it("is 401 without a session, 405 on GET, and 403 cross-site with nothing ended", async () => {
    expect((await request(srv.url, "POST", "/logout-all")).status).toBe(401);
    const cookie = await login(await signup());
    const get = await request(srv.url, "GET", "/logout-all", { cookie });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const res = await request(srv.url, "POST", "/logout-all", { cookie, headers: CROSS_SITE });
    expect(res.status).toBe(403);
    expect(res.setCookie).toBeNull();
    expect(await me(cookie)).toBe(200);
  });
});
