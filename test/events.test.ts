// The audit log over real HTTP, on every engine (TEST_ENGINE): what each
// action records, who can read it (GET /account/activity, GET /admin/events),
// that no secret ever goes in, and that reading or using a session writes none.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PASSWORD = "password123";
const NEW_PASSWORD = "another password 9";
const ADMIN_PASSWORD = "admin passphrase 1";
const UA = { "user-agent": "EventsTest/1.0 (like Firefox)" };

let srv: TestServer;
let adminEmail: string;
let admin: ReturnType<typeof client>;

beforeAll(async () => {
  adminEmail = uniqueEmail("events-admin");
  srv = await startTestServer({ env: { LATCHKEY_ADMIN_EMAIL: adminEmail, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD, LOCKOUT_THRESHOLD: "3" } });
  admin = client(srv.url);
  expect((await admin.post("/login", { email: adminEmail, password: ADMIN_PASSWORD })).status).toBe(200);
});
afterAll(() => srv.destroy());

async function signupAndLogin(prefix = "events") {
  const email = uniqueEmail(prefix);
  const browser = client(srv.url);
  const signup = await browser.post("/signup", { email, password: PASSWORD }, { headers: UA });
  expect(signup.status).toBe(201);
  expect((await browser.post("/login", { email, password: PASSWORD }, { headers: UA })).status).toBe(200);
  return { email, id: signup.body.user.id as string, browser };
}

/** Every event of the user, newest first, following the cursor to the end. */
async function activity(browser: ReturnType<typeof client>, limit = 100) {
  const events: any[] = [];
  let cursor: string | null = null;
  do {
    const res = await browser.get(`/account/activity?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    cursor = res.body.nextCursor;
  } while (cursor);
  return events;
}

const adminEvents = async (query: string) => {
  const res = await admin.get(`/admin/events?${query}`);
  expect(res.status).toBe(200);
  return res.body as { events: any[]; nextCursor: string | null };
};

describe("what a user's own activity shows", () => {
  it("records sign-up, sign-ins, failures, revocations and a password change, newest first, with device and address", async () => {
    const { email, id, browser } = await signupAndLogin();
    const loginSession = (await browser.get("/sessions")).body.sessions[0].id as string;
    expect((await request(srv.url, "POST", "/login", { body: { email, password: "wrong password" }, headers: UA })).status).toBe(401);
    const other = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } });
    const otherCookie = cookiePair(other.setCookie);
    const otherId = (await request(srv.url, "GET", "/sessions", { cookie: otherCookie })).body.sessions.find((s: any) => s.current).id;
    expect((await browser.delete(`/sessions/${otherId}`)).status).toBe(200);
    expect((await browser.post("/sessions/revoke-others")).status).toBe(200);
    expect((await browser.post("/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, { headers: UA })).status).toBe(200);

    const events = await activity(browser, 2); // small pages: the cursor is followed
    expect(events.map((e) => e.type)).toEqual([
      "password.changed",
      "sessions.revoked",
      "session.revoked",
      "login.success",
      "login.failure",
      "login.success",
      "signup",
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ userId: id, actorId: null, ip: "127.0.0.1" });
      expect(e.id).toMatch(/^evt_/);
      expect(Date.parse(e.at)).toBeGreaterThan(0);
    }
    expect(events[6]).toMatchObject({ userAgent: UA["user-agent"], details: { role: "user" } });
    expect(events[5]).toMatchObject({ sessionId: loginSession, userAgent: UA["user-agent"], details: { client: "cookie" } });
    expect(events[4]).toMatchObject({ sessionId: null, userAgent: UA["user-agent"] });
    expect(events[2]).toMatchObject({ sessionId: otherId });
    expect(events[1]).toMatchObject({ sessionId: loginSession, details: { scope: "others" } });

    // Nothing secret in any of it: not the passwords, not a cookie's token.
    const text = JSON.stringify(events);
    for (const secret of [PASSWORD, NEW_PASSWORD, "wrong password", otherCookie.split("=")[1]!, browser.cookie!.split("=")[1]!]) {
      expect(text).not.toContain(secret);
    }
  });

  it("records logging out and logging out everywhere, and a new sign-in after them", async () => {
    const { email, browser } = await signupAndLogin();
    expect((await browser.post("/logout")).status).toBe(200);
    expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200);
    expect((await browser.post("/logout-all")).status).toBe(200);
    expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200);
    const types = (await activity(browser)).map((e) => [e.type, e.details.scope ?? e.details.client ?? null]);
    expect(types.slice(0, 5)).toEqual([
      ["login.success", "cookie"],
      ["sessions.revoked", "all"],
      ["login.success", "cookie"],
      ["logout", "cookie"],
      ["login.success", "cookie"],
    ]);
  });

  it("shows only the signed-in user's own events, and needs a session", async () => {
    const a = await signupAndLogin("mine");
    const b = await signupAndLogin("theirs");
    expect((await activity(a.browser)).every((e) => e.userId === a.id)).toBe(true);
    expect((await activity(b.browser)).every((e) => e.userId === b.id)).toBe(true);
    expect((await request(srv.url, "GET", "/account/activity")).status).toBe(401);
  });

  it("records bearer sign-ins, logouts and a refresh token coming back", async () => {
    const { email, browser } = await signupAndLogin();
    const login = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    const { refreshToken } = login.body;
    const rotated = await request(srv.url, "POST", "/token/refresh", { body: { refreshToken } });
    expect(rotated.status).toBe(200);
    expect((await request(srv.url, "POST", "/token/refresh", { body: { refreshToken } })).status).toBe(401); // reuse
    const second = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    expect((await request(srv.url, "POST", "/token/logout", { body: { refreshToken: second.body.refreshToken } })).status).toBe(200);
    const events = await activity(browser);
    expect(events.slice(0, 4).map((e) => [e.type, e.details.client ?? null])).toEqual([
      ["logout", "bearer"],
      ["login.success", "bearer"],
      ["token.reuse_detected", null],
      ["login.success", "bearer"],
    ]);
    const text = JSON.stringify(events);
    for (const token of [refreshToken, rotated.body.refreshToken, login.body.accessToken]) expect(text).not.toContain(token);
  });

  it("records the failures that lock sign-in, once per lock", async () => {
    const { email, browser } = await signupAndLogin();
    for (let i = 0; i < 3; i++) {
      expect((await request(srv.url, "POST", "/login", { body: { email, password: "not it" } })).status).toBe(401);
    }
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(429);
    const events = await activity(browser);
    expect(events.slice(0, 4).map((e) => [e.type, e.details.scope ?? null])).toEqual([
      ["login.locked", "client"],
      ["login.failure", null],
      ["login.failure", null],
      ["login.failure", null],
    ]);
  });

  it("GET /me and the session list write nothing; a login adds exactly one event", async () => {
    const { email, id, browser } = await signupAndLogin();
    const count = async () => (await adminEvents(`userId=${id}&limit=100`)).events.length;
    const before = await count();
    for (let i = 0; i < 20; i++) expect((await browser.get("/me")).status).toBe(200);
    expect((await browser.get("/sessions")).status).toBe(200);
    expect((await browser.get("/account/activity")).status).toBe(200);
    expect(await count()).toBe(before);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(200);
    expect(await count()).toBe(before + 1);
  });
});

describe("admin actions and GET /admin/events", () => {
  it("records an admin's changes to an account with the admin as actor, visible to the user and after deletion", async () => {
    const { id, browser } = await signupAndLogin("target");
    const adminId = (await admin.get("/me")).body.user.id;
    expect((await admin.patch(`/users/${id}`, { role: "admin" })).status).toBe(200);
    expect((await admin.patch(`/users/${id}`, { role: "admin" })).status).toBe(200); // no change: no event
    expect((await admin.delete(`/users/${id}/sessions`)).status).toBe(200);
    const userView = await adminEvents(`userId=${id}`);
    expect(userView.events.slice(0, 2).map((e) => [e.type, e.actorId, e.details])).toEqual([
      ["sessions.revoked", adminId, { scope: "all" }],
      ["role.changed", adminId, { from: "user", to: "admin" }],
    ]);
    expect((await browser.get("/me")).status).toBe(401); // the role change ended the session
    expect((await admin.delete(`/users/${id}`)).status).toBe(200);
    const after = await adminEvents(`userId=${id}&type=account.deleted`);
    expect(after.events).toMatchObject([{ type: "account.deleted", userId: id, actorId: adminId }]);
  });

  it("filters by type (several), time window and user, and pages with a cursor", async () => {
    const { email, id } = await signupAndLogin("filter");
    for (let i = 0; i < 3; i++) await request(srv.url, "POST", "/login", { body: { email, password: i === 1 ? "wrong" : PASSWORD } });
    const mine = await adminEvents(`userId=${id}&type=login.success,login.failure&limit=2`);
    expect(mine.events.map((e) => e.type)).toEqual(["login.success", "login.failure"]);
    const rest = await adminEvents(`userId=${id}&type=login.success,login.failure&limit=2&cursor=${mine.nextCursor}`);
    expect(rest.events.map((e) => e.type)).toEqual(["login.success", "login.success"]);
    expect(rest.nextCursor).toBeNull();

    const signup = (await adminEvents(`userId=${id}&type=signup`)).events[0];
    const at = Date.parse(signup.at);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect((await adminEvents(`userId=${id}&type=signup&since=${iso(at)}&until=${iso(at + 1)}`)).events).toHaveLength(1);
    expect((await adminEvents(`userId=${id}&type=signup&since=${iso(at + 1)}`)).events).toHaveLength(0);
    expect((await adminEvents(`userId=${id}&type=signup&until=${iso(at)}`)).events).toHaveLength(0);

    const failures = await adminEvents("type=login.failure&limit=100");
    expect(failures.events.every((e) => e.type === "login.failure")).toBe(true);
  });

  it("records a failed sign-in for an unknown email without naming it", async () => {
    const ghost = uniqueEmail("nobody");
    expect((await request(srv.url, "POST", "/login", { body: { email: ghost, password: PASSWORD } })).status).toBe(401);
    const failures = await adminEvents("type=login.failure&limit=100");
    const anonymous = failures.events.filter((e) => e.userId === null);
    expect(anonymous.length).toBeGreaterThan(0);
    expect(JSON.stringify(failures)).not.toContain(ghost);
  });

  it("refuses non-admins and bad queries with the documented shapes", async () => {
    const { browser } = await signupAndLogin("nosy");
    expect((await browser.get("/admin/events")).status).toBe(403);
    expect((await request(srv.url, "GET", "/admin/events")).status).toBe(401);
    for (const query of ["since=yesterday", "until=2026-13-01", "cursor=abc", "cursor=0", "limit=0", "limit=101", "type=LOGIN", "type=a,,b"]) {
      const res = await admin.get(`/admin/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ error: expect.any(String), issues: [expect.objectContaining({ path: expect.any(String), message: expect.any(String) })] });
    }
    expect((await browser.get("/account/activity?cursor=x")).status).toBe(400);
  });
});

describe("retention (EVENTS_RETENTION)", () => {
  it("the background pruner deletes events older than the retention and keeps newer ones", async () => {
    const own = await startTestServer({ env: { EVENTS_RETENTION: "30d" } });
    try {
      const email = uniqueEmail("old");
      const browser = client(own.url);
      expect((await browser.post("/signup", { email, password: PASSWORD })).status).toBe(201);
      own.clock.advance(31 * 24 * 3_600_000);
      expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200);
      await own.latchkey.pruneNow();
      expect((await activity(browser)).map((e) => e.type)).toEqual(["login.success"]);
    } finally {
      await own.destroy();
    }
  });
});
