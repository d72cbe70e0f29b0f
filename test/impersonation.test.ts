// Impersonation over real HTTP and SMTP, on every engine (TEST_ENGINE): an
// admin signs in as a user in a separate, marked, bounded session the user
// can see and is told of; nothing sensitive works inside it; what is done
// inside names the admin; stopping gives the admin their own session back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startSmtp, type SmtpCapture } from "./helpers/smtp.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const ADMIN_EMAIL = uniqueEmail("impersonating-admin");
const ADMIN_PASSWORD = "admin passphrase 1";
const PASSWORD = "password123";
const MINUTE = 60_000;

let smtp: SmtpCapture;
let srv: TestServer;
beforeAll(async () => {
  smtp = await startSmtp();
  srv = await startTestServer({
    env: { EMAIL_VERIFICATION: "off", SMTP_URL: smtp.url, NOTIFY_NEW_DEVICE: "false", LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
});
afterAll(async () => {
  await srv?.destroy();
  await smtp?.close();
});

async function admin() {
  const browser = client(srv.url);
  expect((await browser.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200);
  return browser;
}

async function member(name: string) {
  const email = uniqueEmail(name);
  const id = (await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).body.user.id as string;
  const own = client(srv.url);
  await own.post("/login", { email, password: PASSWORD });
  return { email, id, own };
}

describe("impersonation", () => {
  it("is a separate session marked with the admin, seen by the user, in which nothing sensitive works", async () => {
    const boss = await admin();
    const adminId = (await boss.get("/me")).body.user.id;
    const { email, id, own } = await member("impersonated");

    const res = await boss.post(`/users/${id}/impersonate`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: expect.objectContaining({ id, email }), expiresAt: new Date(srv.clock() + 60 * MINUTE).toISOString() });
    const cookies = res.headers.getSetCookie();
    expect(cookies[0]).toMatch(/^impersonator=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=3600$/);
    expect(cookies[1]).toMatch(/^session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=3600$/);

    // The admin's browser is the user now, in a session that says so, and the user sees it.
    const me = await boss.get("/me");
    expect(me.body.user.id).toBe(id);
    expect(me.body.session.impersonatorId).toBe(adminId);
    const theirs = (await own.get("/sessions")).body.sessions as { id: string; impersonatorId: string | null }[];
    expect(theirs.find((s) => s.id === me.body.session.id)?.impersonatorId).toBe(adminId);
    expect(theirs.filter((s) => s.impersonatorId === null)).toHaveLength(1);
    const activity = (await own.get("/account/activity")).body.events as { type: string; actorId: string | null }[];
    expect(activity.find((e) => e.type === "impersonation.started")?.actorId).toBe(adminId);
    await srv.latchkey.notices.settle();
    expect(smtp.inbox.filter((m) => m.to === email).map((m) => m.subject)).toContain("An administrator signed in as you");

    // Every page says so, with the way out.
    for (const path of ["/account", "/docs", "/admin"]) {
      expect((await boss.get(path)).text, path).toContain("by an administrator. Changes to the password");
    }
    expect((await own.get("/account")).text).not.toContain('class="impersonating"');

    // Nothing sensitive, whatever the admin knows.
    const refused = { error: "Not allowed while an administrator is signed in as this user" };
    expect((await boss.post("/password", { currentPassword: PASSWORD, newPassword: "admin chose 1" })).body).toEqual(refused);
    expect((await boss.post("/email", { newEmail: uniqueEmail("stolen"), currentPassword: PASSWORD })).body).toEqual(refused);
    expect((await boss.delete("/me", { password: PASSWORD })).body).toEqual(refused);
    expect((await boss.post("/mfa/totp/setup")).body).toEqual(refused);
    expect((await boss.post("/reauth", { password: PASSWORD })).body).toEqual(refused);
    expect((await boss.post(`/users/${id}/impersonate`)).status).toBe(403); // not an admin in here

    // What is done inside names the admin.
    const ownSession = theirs.find((s) => s.impersonatorId === null)!;
    expect((await boss.delete(`/sessions/${ownSession.id}`)).status).toBe(200);
    const { events } = await srv.latchkey.store.events.list({ userId: id, types: ["session.revoked"], limit: 5 });
    expect(events).toMatchObject([{ actorId: adminId, sessionId: ownSession.id }]);
    expect((await own.get("/me")).status).toBe(401);

    // Stop: the impersonation session ends and the admin has their own session back.
    const stop = await boss.post("/impersonation/stop");
    expect(stop.body).toEqual({ message: "Stopped signing in as the user", restored: true });
    expect((await boss.get("/me")).body.user.id).toBe(adminId);
    expect((await boss.post("/impersonation/stop")).status).toBe(409);
    expect((await request(srv.url, "GET", "/me", { cookie: `session=${cookies[1]!.split(";")[0]!.split("=")[1]}` })).status).toBe(401);
    const ended = await srv.latchkey.store.events.list({ userId: id, types: ["impersonation.ended"], limit: 5 });
    expect(ended.events).toMatchObject([{ actorId: adminId }]);
  });

  it("ends after IMPERSONATION_MAX however busy, and is never renewed", async () => {
    const boss = await admin();
    const { id } = await member("bounded");
    expect((await boss.post(`/users/${id}/impersonate`)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      srv.clock.advance(11 * MINUTE);
      expect((await boss.get("/me")).status).toBe(200);
    }
    srv.clock.advance(6 * MINUTE);
    expect((await boss.get("/me")).status).toBe(401);
  });

  it("never signs in as an admin or a disabled account; needs an admin, a fresh sign-in, a known user; takes no body", async () => {
    const boss = await admin();
    const adminId = (await boss.get("/me")).body.user.id;
    expect((await boss.post(`/users/${adminId}/impersonate`)).body).toEqual({ error: "Admins cannot be impersonated" });
    const { id, own } = await member("off-limits");
    expect((await boss.post(`/users/${id}/disable`, { reason: "test" })).status).toBe(200);
    expect((await boss.post(`/users/${id}/impersonate`)).body).toEqual({ error: "Account disabled" });
    expect((await boss.post("/users/nobody/impersonate")).status).toBe(404);
    const other = await member("not-an-admin");
    expect((await other.own.post(`/users/${other.id}/impersonate`)).status).toBe(403);
    expect((await boss.post(`/users/${other.id}/impersonate`, { please: true })).status).toBe(400);
    expect((await own.post("/impersonation/stop")).status).toBe(401); // disabled: signed out
    srv.clock.advance(11 * MINUTE);
    expect((await boss.post(`/users/${other.id}/impersonate`)).body.error).toBe("Re-authentication required");
  });
});
