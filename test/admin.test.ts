// Admin user management (GET/PATCH/DELETE /users...) and the first-admin
// bootstrap from LATCHKEY_ADMIN_EMAIL + LATCHKEY_ADMIN_PASSWORD.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapAdmin } from "../src/auth/admin-bootstrap.js";
import { ConfigError } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { bearerLogin, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, testConfig } from "./helpers/server.js";

const PASSWORD = "password123";
const ADMIN_PASSWORD = "admin passphrase 1";
const COOKIE_CLEAR = "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0";
const CROSS_SITE = { "sec-fetch-site": "cross-site" };

/** A server whose first admin comes from the environment, with helpers bound to it. */
async function adminServer() {
  const adminEmail = uniqueEmail("admin");
  const srv = await startTestServer({ env: { LATCHKEY_ADMIN_EMAIL: adminEmail, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const login = async (email: string, password = PASSWORD) => {
    const res = await request(srv.url, "POST", "/login", { body: { email, password } });
    expect(res.status).toBe(200);
    return cookiePair(res.setCookie);
  };
  const signup = async (email = uniqueEmail()) => {
    const res = await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    expect(res.status).toBe(201);
    return { email, id: res.body.user.id as string };
  };
  const me = async (cookie: string) => request(srv.url, "GET", "/me", { cookie });
  const api = (method: string, path: string, cookie?: string, body?: unknown, headers?: Record<string, string>) =>
    request(srv.url, method, path, { cookie, body, headers });
  const admin = await login(adminEmail, ADMIN_PASSWORD);
  return { srv, adminEmail, admin, login, signup, me, api };
}

type Ctx = Awaited<ReturnType<typeof adminServer>>;
let t: Ctx;
beforeAll(async () => {
  t = await adminServer();
});
afterAll(() => t.srv.destroy());

describe("admin bootstrap", () => {
  it("creates the first admin from the environment", async () => {
    const res = await t.me(t.admin);
    expect(res.body.user).toMatchObject({ email: t.adminEmail, role: "admin" });
  });

  it("never changes an existing account on restart (a changed password stays changed)", async () => {
    const email = uniqueEmail("boot");
    const first = await startTestServer({ env: { LATCHKEY_ADMIN_EMAIL: email, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    try {
      const login = await request(first.url, "POST", "/login", { body: { email, password: ADMIN_PASSWORD } });
      const cookie = cookiePair(login.setCookie);
      const changed = await request(first.url, "POST", "/password", { cookie, body: { currentPassword: ADMIN_PASSWORD, newPassword: "changed passphrase" } });
      expect(changed.status).toBe(200);
      const second = await first.restart();
      try {
        expect((await request(second.url, "POST", "/login", { body: { email, password: ADMIN_PASSWORD } })).status).toBe(401);
        expect((await request(second.url, "POST", "/login", { body: { email, password: "changed passphrase" } })).status).toBe(200);
        const { users } = await second.latchkey.store.listUsers({ limit: 10 });
        expect(users).toHaveLength(1);
      } finally {
        await second.destroy();
      }
    } catch (err) {
      await first.destroy().catch(() => {});
      throw err;
    }
  });

  it("bootstraps once: a deleted first admin is not re-created on restart, and every start warns while the variables are set", async () => {
    const email = uniqueEmail("once");
    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    const events = () => lines.map((l) => JSON.parse(l) as { event?: string; level: number; msg?: string });
    const first = await startTestServer({ env: { LATCHKEY_ADMIN_EMAIL: email, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD }, logger });
    let second: typeof first | undefined;
    try {
      expect(events().map((e) => e.event)).toContain("admin.bootstrapped");
      expect(events().find((e) => e.event === "admin.bootstrap_env_set")?.msg).toContain("remove LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD");
      // A second admin takes over, then the first one is deleted (the last admin could not be).
      const store = first.latchkey.store;
      const successor = await store.createUser({ id: randomUUID(), email: uniqueEmail("successor"), passwordHash: "unused", role: "admin", createdAt: first.clock() });
      const original = (await store.findUserByEmail(email))!;
      expect(await store.deleteUser(original.id)).toBe("ok");

      lines.length = 0;
      second = await first.restart();
      expect(await second.latchkey.store.findUserByEmail(email)).toBeNull();
      expect((await request(second.url, "POST", "/login", { body: { email, password: ADMIN_PASSWORD } })).status).toBe(401);
      expect(events().map((e) => e.event)).not.toContain("admin.bootstrapped");
      const warning = events().find((e) => e.event === "admin.bootstrap_env_set");
      expect(warning?.level).toBe(40); // warn
      expect(warning?.msg).toContain("LATCHKEY_ADMIN_PASSWORD is still set but is ignored");
      expect(lines.join("\n")).not.toContain(ADMIN_PASSWORD);

      // The same, called directly on the same store.
      const again = await bootstrapAdmin({ config: second.latchkey.config, store: second.latchkey.store, clock: second.clock, logger });
      expect(again).toBe("done");
      expect((await second.latchkey.store.listUsers({ limit: 10 })).users.map((u) => u.id)).toEqual([successor.id]);
    } finally {
      await (second ?? first).destroy();
    }
  });

  it("creates no account at all without the variables (no default admin)", async () => {
    const srv = await startTestServer();
    try {
      expect((await srv.latchkey.store.listUsers({ limit: 10 })).users).toEqual([]);
    } finally {
      await srv.destroy();
    }
  });

  it.each([
    [{ LATCHKEY_ADMIN_EMAIL: "root" }, "LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD must be set together (or neither)"],
    [{ LATCHKEY_ADMIN_PASSWORD: "long enough password" }, "LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD must be set together (or neither)"],
    [{ LATCHKEY_ADMIN_EMAIL: "root", LATCHKEY_ADMIN_PASSWORD: "short1" }, "LATCHKEY_ADMIN_PASSWORD is not usable: Password must be at least 8 characters"],
    [{ LATCHKEY_ADMIN_EMAIL: "a\u0001b", LATCHKEY_ADMIN_PASSWORD: "long enough password" }, "LATCHKEY_ADMIN_EMAIL is not usable: Email must not contain control characters"],
  ])("refuses %j at start with a clear message that does not repeat the password", (env, message) => {
    let error: unknown;
    try {
      testConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });
});

describe("who may use the admin routes", () => {
  const routes = (id: string): [string, string, unknown?][] => [
    ["GET", "/users"],
    ["GET", `/users/${id}`],
    ["PATCH", `/users/${id}`, { role: "admin" }],
    ["DELETE", `/users/${id}`],
    ["DELETE", `/users/${id}/sessions`],
    ["DELETE", "/users/sessions"],
  ];

  it("answers 401 without a session", async () => {
    const { id } = await t.signup();
    for (const [method, path, body] of routes(id)) {
      const res = await t.api(method, path, undefined, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body).toEqual({ error: "Unauthorized" });
    }
  });

  it("answers 403 Forbidden to a signed-in user without the admin role, and changes nothing", async () => {
    const target = await t.signup();
    const targetCookie = await t.login(target.email);
    const user = await t.signup();
    const cookie = await t.login(user.email);
    for (const [method, path, body] of routes(target.id)) {
      const res = await t.api(method, path, cookie, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body).toEqual({ error: "Forbidden" });
    }
    expect((await t.me(targetCookie)).body.user.role).toBe("user");
    expect((await t.me(cookie)).status).toBe(200);
  });
});

describe("GET /users", () => {
  it("pages through users with a stable cursor and filters by email prefix", async () => {
    const prefix = `page-${randomUUID().slice(0, 8)}-`;
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await t.signup(`${prefix}${i}@example.com`));
    const seen: string[] = [];
    let cursor: string | null = null;
    const sizes: number[] = [];
    do {
      const query: string = `?limit=2&email=${encodeURIComponent(prefix.toUpperCase())}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await t.api("GET", `/users${query}`, t.admin);
      expect(res.status).toBe(200);
      sizes.push(res.body.users.length);
      for (const u of res.body.users) {
        expect(Object.keys(u).sort()).toEqual(["createdAt", "email", "emailVerified", "id", "lastLoginAt", "role", "updatedAt"]);
        seen.push(u.id);
      }
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(created.map((u) => u.id).sort());
  });

  it("filters by any spelling of the prefix: NFD and upper case find the NFC account", async () => {
    const { email, id } = await t.signup(`z\u00f6e-${randomUUID().slice(0, 8)}@example.com`); // precomposed "ö"
    const prefix = email.slice(0, 12).normalize("NFD").toUpperCase();
    expect(prefix).not.toBe(email.slice(0, 12));
    const res = await t.api("GET", `/users?email=${encodeURIComponent(prefix)}`, t.admin);
    expect(res.status).toBe(200);
    expect(res.body.users.map((u: { id: string }) => u.id)).toEqual([id]);
  });

  it("defaults to 20 per page and allows at most 100", async () => {
    const now = t.srv.clock();
    for (let i = 0; i < 21; i++) {
      await t.srv.latchkey.store.createUser({ id: randomUUID(), email: uniqueEmail("bulk"), passwordHash: "unused", role: "user", createdAt: now });
    }
    const page = await t.api("GET", "/users", t.admin);
    expect(page.body.users).toHaveLength(20);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expect((await t.api("GET", "/users?limit=100", t.admin)).status).toBe(200);
  });

  it.each(["limit=0", "limit=101", "limit=abc", "limit=-1", "limit=1.5", "cursor=", `email=a%01b`, `email=a%E2%80%8Bb`])("answers 400 to ?%s", async (query) => {
    const res = await t.api("GET", `/users?${query}`, t.admin);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Invalid query");
    expect(res.body.issues[0]).toEqual({ path: query.split("=")[0], message: expect.any(String) });
  });
});

describe("GET /users/:id", () => {
  it("shows one user, and 404 for an unknown id", async () => {
    const { id, email } = await t.signup();
    const res = await t.api("GET", `/users/${id}`, t.admin);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id, email, role: "user", lastLoginAt: null });
    expect(res.text).not.toMatch(/argon2/);
    const missing = await t.api("GET", `/users/${randomUUID()}`, t.admin);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "User not found" });
  });
});

describe("PATCH /users/:id", () => {
  it("promotes a user, revoking their sessions; after signing in again they are an admin", async () => {
    const { id, email } = await t.signup();
    const old = await t.login(email);
    const res = await t.api("PATCH", `/users/${id}`, t.admin, { role: "admin" });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id, role: "admin" });
    expect(res.setCookie).toBeNull(); // the acting admin's own cookie is untouched
    expect((await t.me(old)).status).toBe(401);
    const fresh = await t.login(email);
    expect((await t.api("GET", "/users", fresh)).status).toBe(200);
  });

  it("demotes an admin, revoking their sessions; after signing in again they are refused", async () => {
    const { id, email } = await t.signup();
    await t.api("PATCH", `/users/${id}`, t.admin, { role: "admin" });
    const old = await t.login(email);
    expect((await t.api("GET", "/users", old)).status).toBe(200);
    const res = await t.api("PATCH", `/users/${id}`, t.admin, { role: "user" });
    expect(res.status).toBe(200);
    expect(res.body.user.role).toBe("user");
    expect((await t.me(old)).status).toBe(401);
    expect((await t.api("GET", "/users", await t.login(email))).status).toBe(403);
  });

  it("ends the user's bearer tokens too when the role changes", async () => {
    const { id, email } = await t.signup();
    const bearer = await bearerLogin(t.srv.url, email, PASSWORD);
    expect(await bearer.accessWorks()).toBe(true);
    t.srv.clock.advance(1000);
    expect((await t.api("PATCH", `/users/${id}`, t.admin, { role: "admin" })).status).toBe(200);
    expect(await bearer.accessWorks()).toBe(false);
    expect(await bearer.refreshWorks()).toBe(false);
  });

  it("changes nothing and revokes nothing when the role is the same", async () => {
    const { id, email } = await t.signup();
    const cookie = await t.login(email);
    const res = await t.api("PATCH", `/users/${id}`, t.admin, { role: "user" });
    expect(res.status).toBe(200);
    expect((await t.me(cookie)).status).toBe(200);
  });

  it("answers 400 to a bad role, 404 to an unknown id, 403 cross-site, all with nothing changed", async () => {
    const { id, email } = await t.signup();
    const cookie = await t.login(email);
    const bad = await t.api("PATCH", `/users/${id}`, t.admin, { role: "root" });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe("role");
    expect((await t.api("PATCH", `/users/${randomUUID()}`, t.admin, { role: "admin" })).status).toBe(404);
    const cross = await t.api("PATCH", `/users/${id}`, t.admin, { role: "admin" }, CROSS_SITE);
    expect(cross.status).toBe(403);
    expect((await t.me(cookie)).body.user.role).toBe("user");
  });
});

describe("DELETE /users/:id", () => {
  it("deletes the user; their cookies answer 401 on the very next request", async () => {
    const { id, email } = await t.signup();
    const cookies = [await t.login(email), await t.login(email)];
    const res = await t.api("DELETE", `/users/${id}`, t.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "User deleted" });
    expect(res.setCookie).toBeNull();
    for (const cookie of cookies) expect((await t.me(cookie)).status).toBe(401);
    expect((await t.api("GET", `/users/${id}`, t.admin)).status).toBe(404);
    expect((await t.api("DELETE", `/users/${id}`, t.admin)).status).toBe(404);
    expect((await request(t.srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(401);
  });

  it("answers 403 cross-site and deletes nothing", async () => {
    const { id, email } = await t.signup();
    const cookie = await t.login(email);
    expect((await t.api("DELETE", `/users/${id}`, t.admin, undefined, CROSS_SITE)).status).toBe(403);
    expect((await t.me(cookie)).status).toBe(200);
  });
});

describe("DELETE /users/:id/sessions", () => {
  it("ends every session of the user, who can still sign in again", async () => {
    const { id, email } = await t.signup();
    const cookies = [await t.login(email), await t.login(email)];
    const bystander = await t.login((await t.signup()).email);
    const res = await t.api("DELETE", `/users/${id}/sessions`, t.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 2 });
    for (const cookie of cookies) expect((await t.me(cookie)).status).toBe(401);
    expect((await t.me(bystander)).status).toBe(200);
    expect((await t.me(await t.login(email))).status).toBe(200);
    expect((await t.api("DELETE", `/users/${randomUUID()}/sessions`, t.admin)).status).toBe(404);
  });

  it("ends the user's bearer tokens too", async () => {
    const { id, email } = await t.signup();
    const bearer = await bearerLogin(t.srv.url, email, PASSWORD);
    t.srv.clock.advance(1000);
    expect((await t.api("DELETE", `/users/${id}/sessions`, t.admin)).status).toBe(200);
    expect(await bearer.accessWorks()).toBe(false);
    expect(await bearer.refreshWorks()).toBe(false);
  });

  it("answers 403 cross-site and ends nothing", async () => {
    const { id, email } = await t.signup();
    const cookie = await t.login(email);
    expect((await t.api("DELETE", `/users/${id}/sessions`, t.admin, undefined, CROSS_SITE)).status).toBe(403);
    expect((await t.me(cookie)).status).toBe(200);
  });
});

describe("DELETE /users/sessions", () => {
  let own: Ctx;
  beforeAll(async () => {
    own = await adminServer(); // its own database: this ends every session in it
  });
  afterAll(() => own.srv.destroy());

  it("answers 403 cross-site and ends nothing", async () => {
    const { email } = await own.signup();
    const cookie = await own.login(email);
    expect((await own.api("DELETE", "/users/sessions", own.admin, undefined, CROSS_SITE)).status).toBe(403);
    expect((await own.me(cookie)).status).toBe(200);
    expect((await own.me(own.admin)).status).toBe(200);
  });

  it("ends every session and bearer token of every user, the admin's own too; signing in again works", async () => {
    const users = [await own.signup(), await own.signup()];
    const cookies = [await own.login(users[0]!.email), await own.login(users[0]!.email), await own.login(users[1]!.email)];
    const bearers = [await bearerLogin(own.srv.url, users[0]!.email, PASSWORD), await bearerLogin(own.srv.url, users[1]!.email, PASSWORD)];
    const res = await own.api("DELETE", "/users/sessions", own.admin);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: 5 }); // these three, the cross-site test's, and the admin's own
    expect(res.setCookie).toBe(COOKIE_CLEAR);
    for (const cookie of [...cookies, own.admin]) expect((await own.me(cookie)).status).toBe(401);
    for (const bearer of bearers) {
      expect(await bearer.accessWorks()).toBe(false);
      expect(await bearer.refreshWorks()).toBe(false);
    }
    expect((await own.me(await own.login(users[1]!.email))).status).toBe(200);
    expect(await (await bearerLogin(own.srv.url, users[1]!.email, PASSWORD)).accessWorks()).toBe(true);
  });
});

describe("the last admin", () => {
  let own: Ctx;
  beforeAll(async () => {
    own = await adminServer(); // its own database: exactly one admin to start with
  });
  afterAll(() => own.srv.destroy());

  it("cannot be demoted or deleted (409), not even by themselves", async () => {
    const id = (await own.me(own.admin)).body.user.id;
    const demote = await own.api("PATCH", `/users/${id}`, own.admin, { role: "user" });
    expect(demote.status).toBe(409);
    expect(demote.body).toEqual({ error: "Cannot remove the last admin" });
    const del = await own.api("DELETE", `/users/${id}`, own.admin);
    expect(del.status).toBe(409);
    expect(del.body).toEqual({ error: "Cannot remove the last admin" });
    expect((await own.me(own.admin)).body.user.role).toBe("admin");
  });

  it("can step down once another admin exists; their own session ends and the cookie is cleared", async () => {
    const other = await own.signup();
    await own.api("PATCH", `/users/${other.id}`, own.admin, { role: "admin" });
    const id = (await own.me(own.admin)).body.user.id;
    const res = await own.api("PATCH", `/users/${id}`, own.admin, { role: "user" });
    expect(res.status).toBe(200);
    expect(res.setCookie).toBe(COOKIE_CLEAR);
    expect((await own.me(own.admin)).status).toBe(401);
    // Now `other` is the last admin.
    const otherCookie = await own.login(other.email);
    expect((await own.api("DELETE", `/users/${other.id}`, otherCookie)).status).toBe(409);
  });

  it("survives two admins demoting each other at the same moment", async () => {
    const a = await own.signup();
    const b = await own.signup();
    const store = own.srv.latchkey.store;
    // Make a and b the only admins.
    await store.setUserRole(a.id, "admin", own.srv.clock());
    await store.setUserRole(b.id, "admin", own.srv.clock());
    for (const u of (await store.listUsers({ limit: 100 })).users) {
      if (u.role === "admin" && u.id !== a.id && u.id !== b.id) expect(await store.setUserRole(u.id, "user", own.srv.clock())).toBe("ok");
    }
    const [ca, cb] = [await own.login(a.email), await own.login(b.email)];
    const results = await Promise.all([
      own.api("PATCH", `/users/${b.id}`, ca, { role: "user" }),
      own.api("PATCH", `/users/${a.id}`, cb, { role: "user" }),
    ]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const admins = (await store.listUsers({ limit: 100 })).users.filter((u) => u.role === "admin");
    expect(admins).toHaveLength(1);
  });
});
