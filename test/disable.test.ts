// Disabling and enabling accounts over real HTTP, on every engine
// (TEST_ENGINE): every session and token of the account ends at once, its
// log-in is refused only after a right password, a disabling with an end
// ends by itself, and the last admin that can act is never disabled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerLogin, client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const ADMIN_EMAIL = uniqueEmail("disabling-admin");
const ADMIN_PASSWORD = "admin passphrase 1";
const PASSWORD = "password123";
const HOUR = 3_600_000;

let srv: TestServer;
let admin: ReturnType<typeof client>;
beforeAll(async () => {
  srv = await startTestServer({ env: { EMAIL_VERIFICATION: "off", LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  admin = client(srv.url);
  expect((await admin.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200);
});
afterAll(() => srv?.destroy());

/** A fresh admin sign-in (admin writes need one within REAUTH_MAX_AGE). */
const freshAdmin = async () => expect((await admin.post("/reauth", { password: ADMIN_PASSWORD })).status).toBe(200);

async function member(name: string) {
  const email = uniqueEmail(name);
  const signup = await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
  const browser = client(srv.url);
  await browser.post("/login", { email, password: PASSWORD });
  return { email, id: signup.body.user.id as string, browser };
}

describe("disabling an account", () => {
  it("ends its sessions and tokens at once and refuses its log-in with 403, only after a right password", async () => {
    const { email, id, browser } = await member("disabled");
    const tokens = await bearerLogin(srv.url, email, PASSWORD);
    const plain = await member("plain");

    const res = await admin.post(`/users/${id}/disable`, { reason: "  Spam from this account  " });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: expect.objectContaining({ id, email }), disabledUntil: "9999-12-31T23:59:59.999Z" });
    expect((await browser.get("/me")).status).toBe(401);
    expect(await tokens.accessWorks()).toBe(false);
    expect(await tokens.refreshWorks()).toBe(false);

    // A wrong password answers as for any account; a right one learns the account is disabled, and gets no session.
    const wrong = await request(srv.url, "POST", "/login", { body: { email, password: "wrong password" } });
    const wrongPlain = await request(srv.url, "POST", "/login", { body: { email: plain.email, password: "wrong password" } });
    expect({ status: wrong.status, text: wrong.text }).toEqual({ status: wrongPlain.status, text: wrongPlain.text });
    for (const path of ["/login", "/token/login"]) {
      const right = await request(srv.url, "POST", path, { body: { email, password: PASSWORD } });
      expect(right.status, path).toBe(403);
      expect(right.body).toEqual({ error: "Account disabled" });
      expect(right.headers.getSetCookie()).toEqual([]);
    }
    expect((await admin.get(`/users/${id}`)).body.disabledUntil).toBe("9999-12-31T23:59:59.999Z");
    const { events } = await srv.latchkey.store.events.list({ userId: id, limit: 20 });
    expect(events.find((e) => e.type === "account.disabled")).toMatchObject({ actorId: expect.any(String), details: { reason: "Spam from this account", until: null } });
    expect(events.filter((e) => e.type === "login.disabled")).toHaveLength(2);

    // Enabled again: signing in works.
    const enabled = await admin.post(`/users/${id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body.disabledUntil).toBeNull();
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(200);
    expect((await plain.browser.get("/me")).status).toBe(200); // nobody else was touched
  });

  it("with `until`, ends by itself at that time", async () => {
    const { email, id } = await member("until");
    const until = new Date(srv.clock() + HOUR).toISOString();
    const res = await admin.post(`/users/${id}/disable`, { reason: "cool down", until });
    expect(res.body.disabledUntil).toBe(until);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(403);
    srv.clock.advance(HOUR);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(200);
    await freshAdmin();
    expect((await admin.get(`/users/${id}`)).body.disabledUntil).toBeNull();
  });

  it("never disables the last admin that can act", async () => {
    await freshAdmin();
    const me = (await admin.get("/me")).body.user.id;
    expect((await admin.post(`/users/${me}/disable`, { reason: "oops" })).body).toEqual({ error: "Cannot remove the last admin" });
    const { id } = await member("second-admin");
    expect((await admin.patch(`/users/${id}`, { role: "admin" })).status).toBe(200);
    expect((await admin.post(`/users/${id}/disable`, { reason: "on leave" })).status).toBe(200);
    // The other admin is disabled: this one is still the last who can act, so it cannot be demoted either.
    expect((await admin.post(`/users/${me}/disable`, { reason: "oops" })).status).toBe(409);
    expect((await admin.patch(`/users/${me}`, { role: "user" })).status).toBe(409);
    expect((await admin.post(`/users/${id}/enable`)).status).toBe(200);
  });

  it("refuses bad input with the documented 400, unknown users with 404, and non-admins with 403", async () => {
    await freshAdmin();
    const { id, browser } = await member("bad-input");
    for (const body of [{}, { reason: "" }, { reason: "   " }, { reason: 5 }, { reason: "x".repeat(501) }, { reason: "r", until: "tomorrow" }, { reason: "r", until: new Date(srv.clock() - 1000).toISOString() }]) {
      const res = await admin.post(`/users/${id}/disable`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    expect((await admin.post(`/users/${id}/enable`, { please: true })).status).toBe(400);
    expect((await admin.post("/users/nobody/disable", { reason: "r" })).status).toBe(404);
    expect((await admin.post("/users/nobody/enable")).status).toBe(404);
    expect((await browser.post(`/users/${id}/disable`, { reason: "me" })).status).toBe(403);
    expect((await request(srv.url, "POST", `/users/${id}/disable`, { body: { reason: "r" } })).status).toBe(401);
    expect((await browser.get("/me")).status).toBe(200); // nothing happened
  });
});
