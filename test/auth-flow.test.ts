// The seed lesson's flow and the core HTTP contract, over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.destroy());

const COOKIE_SET = /^session=([A-Za-z0-9_-]{43}); HttpOnly; SameSite=Lax; Path=\/; Max-Age=2592000$/;
const COOKIE_CLEAR = "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0";

describe("the seed lesson's curl session", () => {
  it("signs up, logs in, reads /me, logs out, and /me is 401 afterwards", async () => {
    const email = "[email protected]"; // verbatim from the lesson
    const c = client(srv.url);
    const signup = await c.post("/signup", { email, password: "password123" });
    expect(signup.status).toBe(201);
    expect(signup.body.user).toEqual({
      id: expect.any(String),
      email,
      role: "user",
      createdAt: expect.any(String),
      updatedAt: signup.body.user.createdAt,
      lastLoginAt: null,
      emailVerified: false,
    });
    expect(signup.setCookie).toBeNull();

    const login = await c.post("/login", { email, password: "password123" });
    expect(login.status).toBe(200);
    expect(login.setCookie).toMatch(COOKIE_SET);
    expect(login.body.user.id).toBe(signup.body.user.id);

    const me = await c.get("/me");
    expect(me.status).toBe(200);
    // The same user, now with the time of this login; still nothing secret in it. The session was proven by a password, now.
    expect(me.body).toEqual({
      user: { ...signup.body.user, lastLoginAt: expect.any(String) },
      session: { id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), authenticatedAt: expect.any(String), aal: "aal1", impersonatorId: null },
    });
    expect(Math.abs(Date.parse(me.body.session.authenticatedAt) - Date.parse(me.body.user.lastLoginAt))).toBeLessThan(5000);
    expect(Date.parse(me.body.user.lastLoginAt)).toBeGreaterThanOrEqual(Date.parse(signup.body.user.createdAt));

    const oldCookie = c.cookie!;
    const logout = await c.post("/logout");
    expect(logout.status).toBe(200);
    expect(logout.body).toEqual({ message: "Logged out" });
    expect(logout.setCookie).toBe(COOKIE_CLEAR);

    expect((await c.get("/me")).status).toBe(401);
    // Replaying the old cookie by hand: the session is gone on the server, not only in the jar.
    const replay = await request(srv.url, "GET", "/me", { cookie: oldCookie });
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: "Unauthorized" });
  });
});

describe("POST /signup", () => {
  it("normalises the email (trim, lower case) and keeps the password exactly", async () => {
    const email = uniqueEmail();
    const res = await request(srv.url, "POST", "/signup", { body: { email: `  ${email.toUpperCase()} `, password: " spaced password " } });
    expect(res.status).toBe(201);
    expect(res.body.user.email).toBe(email);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: " spaced password " } })).status).toBe(200);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: "spaced password" } })).status).toBe(401);
  });

  it("answers 409 for a duplicate email, whatever its case", async () => {
    const email = uniqueEmail();
    expect((await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } })).status).toBe(201);
    const dup = await request(srv.url, "POST", "/signup", { body: { email: email.toUpperCase(), password: "password456" } });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({ error: "Email already registered" });
  });

  it("lets exactly one of many concurrent signups with one email win", async () => {
    const email = uniqueEmail();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => request(srv.url, "POST", "/signup", { body: { email, password: "password123" } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
  });

  it.each([
    [{ email: uniqueEmail(), password: "short" }, "password", "Password must be at least 8 characters"],
    [{ email: uniqueEmail(), password: "x".repeat(1025) }, "password", "Password must be at most 1024 characters"],
    [{ email: "", password: "password123" }, "email", "Email is required"],
    [{ email: "a\u0000b@example.com", password: "password123" }, "email", "Email must not contain control characters"],
    [{ email: 42, password: "password123" }, "email", "Email must be a string"],
    [{ password: "password123" }, "email", "Email must be a string"],
  ])("refuses %j with 400 and an issue on %s", async (body, path, message) => {
    const res = await request(srv.url, "POST", "/signup", { body });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Invalid request body");
    expect(res.body.issues).toContainEqual({ path, message });
  });

  it("counts password length in characters, not bytes", async () => {
    const res = await request(srv.url, "POST", "/signup", { body: { email: uniqueEmail(), password: "🔑".repeat(8) } });
    expect(res.status).toBe(201);
  });
});

describe("one address, one identity", () => {
  const nfc = () => `jos\u00e9-${uniqueEmail("id")}`; // "é" precomposed
  const nfd = (email: string) => email.normalize("NFD"); // "e" + combining acute: displays the same
  const post = (path: string, email: string, password = "password123") => request(srv.url, "POST", path, { body: { email, password } });

  it("treats NFC and NFD spellings as one account: signup 409, login finds it, stored as NFC", async () => {
    const email = nfc();
    expect(nfd(email)).not.toBe(email);
    const created = await post("/signup", email);
    expect(created.status).toBe(201);
    expect((await post("/signup", nfd(email))).status).toBe(409);
    expect((await post("/signup", nfd(email).toUpperCase())).status).toBe(409);
    const login = await post("/login", nfd(email));
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(created.body.user.id);
    expect((await post("/token/login", nfd(email))).status).toBe(200);

    const other = nfc();
    const fromNfd = await post("/signup", nfd(other).toUpperCase());
    expect(fromNfd.body.user.email).toBe(other); // NFC, then lower case
    expect((await post("/login", other)).status).toBe(200);
  });

  it.each([
    ["a zero-width space", "\u200b"],
    ["a zero-width joiner", "\u200d"],
    ["a soft hyphen", "\u00ad"],
    ["a byte-order mark", "\ufeff"],
    ["a right-to-left override", "\u202e"],
    ["a no-break space", "\u00a0"],
  ])("refuses an address with %s inside, on signup, login and forgot-password alike", async (_name, char) => {
    const email = uniqueEmail("invisible").replace("@", `${char}@`);
    const message = "Email must not contain invisible characters or special spaces (zero-width characters, soft hyphens, direction marks, no-break spaces)";
    for (const path of ["/signup", "/login", "/token/login", "/forgot-password"]) {
      const res = await post(path, email);
      expect(res.status, path).toBe(400);
      expect(res.body.issues, path).toEqual([{ path: "email", message }]);
    }
  });

  it.each([
    ["a list", "victim@example.com, attacker@example.net"],
    ["a list with semicolons", "victim@example.com;attacker@example.net"],
    ["a display name", '"ceo@example.com" <me@example.net>'],
    ["angle brackets", "ceo@example.com <me@example.net>"],
    ["a comment", "me@example.net (ceo@example.com)"],
    ["a second @", "ceo@example.com@example.net"],
  ])("refuses %s: one plain mailbox only", async (_name, email) => {
    const message = 'Email must be one plain address such as name@example.com: no display name, list, comment, quotes or second "@"';
    for (const path of ["/signup", "/login", "/forgot-password"]) {
      const res = await post(path, email);
      expect(res.status, path).toBe(400);
      expect(res.body.issues, path).toEqual([{ path: "email", message }]);
    }
  });

  it.each([["[email protected]"], ["o'brien+tag@example.com"], ["user@[192.0.2.1]"], ["bücher@bücher.example"]])(
    "accepts the odd but single address %s",
    async (email) => {
      const unique = email.replace(/^/, `${Date.now()}-${Math.random().toString(36).slice(2)}-`);
      const res = await post("/signup", unique);
      expect(res.status).toBe(201);
      expect((await post("/login", unique)).status).toBe(200);
    },
  );
});

describe("POST /login", () => {
  it("answers unknown email and wrong password with byte-identical responses and no cookie", async () => {
    const email = uniqueEmail();
    await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    const wrong = await request(srv.url, "POST", "/login", { body: { email, password: "password124" } });
    const unknown = await request(srv.url, "POST", "/login", { body: { email: uniqueEmail("nobody"), password: "password123" } });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"error":"Invalid email or password"}');
      expect(res.setCookie).toBeNull();
    }
    const comparable = (h: Headers) => [...h].filter(([k]) => k !== "date" && k !== "x-request-id");
    expect(comparable(wrong.headers)).toEqual(comparable(unknown.headers));
  });

  it("revokes the session cookie the login request arrived with (fixation)", async () => {
    const email = uniqueEmail();
    await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    const first = await request(srv.url, "POST", "/login", { body: { email, password: "password123" } });
    const oldCookie = cookiePair(first.setCookie);
    const second = await request(srv.url, "POST", "/login", { body: { email, password: "password123" }, cookie: oldCookie });
    const newCookie = cookiePair(second.setCookie);
    expect(newCookie).not.toBe(oldCookie);
    expect((await request(srv.url, "GET", "/me", { cookie: oldCookie })).status).toBe(401);
    expect((await request(srv.url, "GET", "/me", { cookie: newCookie })).status).toBe(200);
  });

  it("gives every login its own session", async () => {
    const email = uniqueEmail();
    await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    const a = cookiePair((await request(srv.url, "POST", "/login", { body: { email, password: "password123" } })).setCookie);
    const b = cookiePair((await request(srv.url, "POST", "/login", { body: { email, password: "password123" } })).setCookie);
    expect(a).not.toBe(b);
    expect((await request(srv.url, "GET", "/me", { cookie: a })).status).toBe(200);
    expect((await request(srv.url, "GET", "/me", { cookie: b })).status).toBe(200);
  });
});

describe("GET /me", () => {
  it("is 401 without a cookie, and sets no cookie", async () => {
    const res = await request(srv.url, "GET", "/me");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "Unauthorized" });
    expect(res.setCookie).toBeNull();
  });

  it.each([
    ["malformed", "session=not-a-token"],
    ["unknown", `session=${"A".repeat(43)}`],
    ["empty", "session="],
  ])("is 401 for a %s session cookie, and clears it", async (_kind, cookie) => {
    const res = await request(srv.url, "GET", "/me", { cookie });
    expect(res.status).toBe(401);
    expect(res.setCookie).toBe(COOKIE_CLEAR);
  });

  it("treats an oversized or garbled Cookie header as no session", async () => {
    const huge = await request(srv.url, "GET", "/me", { cookie: `junk=${"x".repeat(9000)}` });
    expect(huge.status).toBe(401);
    const garbled = await request(srv.url, "GET", "/me", { cookie: ";;;=;session;=session=;\t" });
    expect(garbled.status).toBe(401);
  });
});

describe("POST /logout", () => {
  it("answers 200 and clears the cookie with no cookie, a dead cookie, and repeatedly", async () => {
    for (const cookie of [undefined, `session=${"B".repeat(43)}`, "session=garbage", undefined]) {
      const res = await request(srv.url, "POST", "/logout", { cookie });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ message: "Logged out" });
      expect(res.setCookie).toBe(COOKIE_CLEAR);
    }
  });

  it.each(["GET", "PUT", "DELETE", "PATCH"])("answers %s with 405 and Allow: POST", async (method) => {
    const res = await request(srv.url, method, "/logout");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.body).toEqual({ error: "Method not allowed" });
  });

  it("does not log out on GET, even with a live cookie", async () => {
    const email = uniqueEmail();
    const c = client(srv.url);
    await c.post("/signup", { email, password: "password123" });
    await c.post("/login", { email, password: "password123" });
    expect((await c.get("/logout")).status).toBe(405);
    expect((await c.get("/me")).status).toBe(200);
  });
});

describe("every response", () => {
  it("carries no-store and the security headers", async () => {
    for (const res of [
      await request(srv.url, "GET", "/me"),
      await request(srv.url, "POST", "/logout"),
      await request(srv.url, "GET", "/nowhere"),
    ]) {
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(res.headers.get("strict-transport-security")).toBeNull(); // development
    }
  });

  it("answers an unknown route with 404 JSON", async () => {
    const res = await request(srv.url, "GET", "/nowhere");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: "Not found" });
  });
});

describe("health", () => {
  it("reports the process up and the database ready", async () => {
    expect((await request(srv.url, "GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await request(srv.url, "GET", "/readyz")).body).toEqual({ status: "ready" });
  });
});
