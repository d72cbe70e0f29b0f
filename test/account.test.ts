// Changing your password (POST /password) and closing your account (DELETE /me).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerLogin, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.destroy());

const PASSWORD = "password123";
const NEW_PASSWORD = "a much better passphrase";
const COOKIE_SET = /^session=([A-Za-z0-9_-]{43}); HttpOnly; SameSite=Lax; Path=\/; Max-Age=2592000$/;
const COOKIE_CLEAR = "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0";
const CROSS_SITE = { "sec-fetch-site": "cross-site" };

async function signup(): Promise<{ email: string; id: string }> {
  const email = uniqueEmail();
  const res = await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
  expect(res.status).toBe(201);
  return { email, id: res.body.user.id };
}

const loginStatus = async (email: string, password: string) =>
  (await request(srv.url, "POST", "/login", { body: { email, password } })).status;

async function login(email: string, password = PASSWORD): Promise<string> {
  const res = await request(srv.url, "POST", "/login", { body: { email, password } });
  expect(res.status).toBe(200);
  return cookiePair(res.setCookie);
}

const me = async (cookie: string) => (await request(srv.url, "GET", "/me", { cookie })).status;
const changePassword = (cookie: string, body: unknown, headers?: Record<string, string>) =>
  request(srv.url, "POST", "/password", { cookie, body, headers });

describe("POST /password", () => {
  it("changes the password, ends every other session, and rotates this one to a new cookie", async () => {
    const { email } = await signup();
    const others = [await login(email), await login(email)];
    const current = await login(email);
    const bystander = await login((await signup()).email);
    srv.clock.advance(60_000);
    const res = await changePassword(current, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(email);
    expect(res.body.user.updatedAt).toBe(new Date(srv.clock()).toISOString());
    expect(res.text).not.toMatch(/argon2|password/i);
    expect(res.setCookie).toMatch(COOKIE_SET);
    const rotated = cookiePair(res.setCookie);
    expect(rotated).not.toBe(current);

    expect(await me(current)).toBe(401); // the old cookie is dead
    for (const cookie of others) expect(await me(cookie)).toBe(401);
    expect(await me(rotated)).toBe(200);
    expect(await me(bystander)).toBe(200);
    const sessions = (await request(srv.url, "GET", "/sessions", { cookie: rotated })).body.sessions;
    expect(sessions).toHaveLength(1);
    expect(sessions[0].current).toBe(true);

    expect(await loginStatus(email, PASSWORD)).toBe(401);
    expect(await loginStatus(email, NEW_PASSWORD)).toBe(200);
  });

  it("ends the user's bearer tokens too", async () => {
    const { email } = await signup();
    const current = await login(email);
    const bearer = await bearerLogin(srv.url, email, PASSWORD);
    srv.clock.advance(1000);
    expect((await changePassword(current, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(200);
    expect(await bearer.accessWorks()).toBe(false);
    expect(await bearer.refreshWorks()).toBe(false);
  });

  it("answers 401 to a wrong current password and changes nothing", async () => {
    const { email } = await signup();
    const other = await login(email);
    const current = await login(email);
    const res = await changePassword(current, { currentPassword: "password124", newPassword: NEW_PASSWORD });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Current password is incorrect" });
    expect(res.setCookie).toBeNull();
    expect(await me(current)).toBe(200); // a mistyped password does not log you out
    expect(await me(other)).toBe(200);
    expect(await loginStatus(email, PASSWORD)).toBe(200);
    expect(await loginStatus(email, NEW_PASSWORD)).toBe(401);
  });

  it("checks the current password exactly as typed (no trimming)", async () => {
    const { email } = await signup();
    const current = await login(email);
    const res = await changePassword(current, { currentPassword: ` ${PASSWORD}`, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(401);
  });

  it.each([
    [{ currentPassword: PASSWORD, newPassword: "short" }, "newPassword", "Password must be at least 8 characters"],
    [{ currentPassword: PASSWORD, newPassword: "x".repeat(1025) }, "newPassword", "Password must be at most 1024 characters"],
    [{ currentPassword: "", newPassword: NEW_PASSWORD }, "currentPassword", "Password is required"],
    [{ newPassword: NEW_PASSWORD }, "currentPassword", "Password must be a string"],
  ])("refuses %j with 400 and an issue on %s", async (body, path, message) => {
    const { email } = await signup();
    const current = await login(email);
    const res = await changePassword(current, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Invalid request body");
    expect(res.body.issues).toContainEqual({ path, message });
    expect(await loginStatus(email, PASSWORD)).toBe(200);
  });

  it("is 401 without a session, 415 without JSON, and 403 cross-site with nothing changed", async () => {
    expect((await request(srv.url, "POST", "/password", { body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })).status).toBe(401);
    const { email } = await signup();
    const current = await login(email);
    const raw = await request(srv.url, "POST", "/password", { cookie: current, raw: "x", headers: { "content-type": "text/plain" } });
    expect(raw.status).toBe(415);
    const res = await changePassword(current, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }, CROSS_SITE);
    expect(res.status).toBe(403);
    expect(res.setCookie).toBeNull();
    expect(await me(current)).toBe(200);
    expect(await loginStatus(email, PASSWORD)).toBe(200);
  });
});

describe("DELETE /me", () => {
  it("deletes the account and every session, and clears the cookie", async () => {
    const { email } = await signup();
    const other = await login(email);
    const current = await login(email);
    const bystander = await login((await signup()).email);
    const res = await request(srv.url, "DELETE", "/me", { cookie: current, body: { password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Account deleted" });
    expect(res.setCookie).toBe(COOKIE_CLEAR);
    expect(await me(current)).toBe(401);
    expect(await me(other)).toBe(401);
    expect(await me(bystander)).toBe(200);
    expect(await loginStatus(email, PASSWORD)).toBe(401);
    // The email is free again.
    expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  });

  it("answers 401 to a wrong password and keeps the account", async () => {
    const { email } = await signup();
    const current = await login(email);
    const res = await request(srv.url, "DELETE", "/me", { cookie: current, body: { password: "password124" } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Password is incorrect" });
    expect(res.setCookie).toBeNull();
    expect(await me(current)).toBe(200);
  });

  it("answers 400 without a password, 401 without a session, 403 cross-site with nothing deleted", async () => {
    const { email } = await signup();
    const current = await login(email);
    const missing = await request(srv.url, "DELETE", "/me", { cookie: current, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.issues).toContainEqual({ path: "password", message: "Password must be a string" });
    expect((await request(srv.url, "DELETE", "/me", { body: { password: PASSWORD } })).status).toBe(401);
    const cross = await request(srv.url, "DELETE", "/me", { cookie: current, body: { password: PASSWORD }, headers: CROSS_SITE });
    expect(cross.status).toBe(403);
    expect(await me(current)).toBe(200);
  });

  it("refuses to delete the last admin (409), and allows it once another admin exists", async () => {
    const first = await signup();
    expect(await srv.latchkey.store.setUserRole(first.id, "admin", srv.clock())).toBe("ok");
    const cookie = await login(first.email);
    const refused = await request(srv.url, "DELETE", "/me", { cookie, body: { password: PASSWORD } });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: "Cannot remove the last admin" });
    expect(await me(cookie)).toBe(200);

    const second = await signup();
    await srv.latchkey.store.setUserRole(second.id, "admin", srv.clock());
    const res = await request(srv.url, "DELETE", "/me", { cookie, body: { password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(await me(cookie)).toBe(401);
  });
});
