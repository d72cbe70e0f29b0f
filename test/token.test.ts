// Bearer tokens over real HTTP: issuance, verification (every way a token can
// be wrong), rotation with reuse detection, revocation, and the wall between
// bearer routes and cookie routes.
import { generateKeyPairSync, createPrivateKey } from "node:crypto";
import { Writable } from "node:stream";
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEY_SETTING } from "../src/auth/bearer.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const PASSWORD = "password123";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv?.destroy());

async function signupAndLogin(server = srv) {
  const email = uniqueEmail("bearer");
  const signup = await request(server.url, "POST", "/signup", { body: { email, password: PASSWORD } });
  expect(signup.status).toBe(201);
  const login = await request(server.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { email, user: signup.body.user, ...(login.body as { accessToken: string; refreshToken: string }) };
}

const me = (access: string, server = srv) =>
  request(server.url, "GET", "/token/me", { headers: { authorization: `Bearer ${access}` } });
const refresh = (refreshToken: string, server = srv) =>
  request(server.url, "POST", "/token/refresh", { body: { refreshToken } });

/** The development signing key the server generated and stored, to forge tokens that differ in one way only. */
async function serverKey() {
  const jwk = await srv.latchkey.store.tokens.getSetting(DEV_KEY_SETTING);
  return createPrivateKey({ key: JSON.parse(jwk!), format: "jwk" });
}

function expectUnauthorized(res: Awaited<ReturnType<typeof request>>) {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: "Unauthorized" });
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
}

describe("POST /token/login", () => {
  it("answers a Bearer pair: an EdDSA JWT with the documented claims and an opaque refresh token", async () => {
    const { user, accessToken, refreshToken } = await signupAndLogin();
    const login = decodeJwt(accessToken);
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: "EdDSA", typ: "at+jwt", kid: expect.any(String) });
    expect(login).toEqual({
      sub: user.id,
      role: "user",
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/), // the refresh family (the login) it belongs to
      jti: expect.any(String),
      iat: Math.floor(srv.clock() / 1000),
      exp: Math.floor(srv.clock() / 1000) + 900,
      iss: "latchkey",
      aud: "latchkey",
    });
    expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The raw response shape.
    const again = await request(srv.url, "POST", "/token/login", { body: { email: user.email, password: PASSWORD } });
    expect(Object.keys(again.body).sort()).toEqual(["accessToken", "expiresIn", "refreshToken", "tokenType"]);
    expect(again.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    expect(again.setCookie).toBeNull(); // no cookie for bearer clients
    expect(again.headers.get("cache-control")).toBe("no-store");
    expect(decodeJwt(again.body.accessToken).jti).not.toBe(login.jti);
  });

  it("answers a wrong password and an unknown email with the same 401 as /login", async () => {
    const { email } = await signupAndLogin();
    const wrong = await request(srv.url, "POST", "/token/login", { body: { email, password: "password124" } });
    const unknown = await request(srv.url, "POST", "/token/login", { body: { email: uniqueEmail("nobody"), password: PASSWORD } });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.text).toBe('{"error":"Invalid email or password"}');
    }
  });

  it("validates the body like /login", async () => {
    const res = await request(srv.url, "POST", "/token/login", { body: { email: "", password: PASSWORD } });
    expect(res.status).toBe(400);
    expect(res.body.issues).toContainEqual({ path: "email", message: "Email is required" });
    expect((await request(srv.url, "POST", "/token/login", { raw: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await request(srv.url, "POST", "/token/login", { raw: "x", headers: { "content-type": "text/plain" } })).status).toBe(415);
  });
});

describe("GET /token/me", () => {
  it("answers the user for a valid access token", async () => {
    const { user, accessToken } = await signupAndLogin();
    const res = await me(accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { ...user, lastLoginAt: expect.any(String) } }); // the token login recorded a login time
  });

  it("answers 401 with a bare Bearer challenge when no token is sent", async () => {
    const res = await request(srv.url, "GET", "/token/me");
    expectUnauthorized(res);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it.each([
    ["another scheme", "Basic dXNlcjpwYXNz"],
    ["no token", "Bearer"],
    ["two tokens", "Bearer a.b.c d.e.f"],
    ["garbage", "Bearer not-a-jwt"],
    ["an oversized token", `Bearer ${"a".repeat(5000)}.b.c`],
  ])("answers 401 invalid_token for %s", async (_what, authorization) => {
    const res = await request(srv.url, "GET", "/token/me", { headers: { authorization } });
    expectUnauthorized(res);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  });

  it("refuses a tampered signature and a tampered payload", async () => {
    const { accessToken } = await signupAndLogin();
    const [h, p, s] = accessToken.split(".") as [string, string, string];
    const flipped = s.slice(0, 10) + (s[10] === "A" ? "B" : "A") + s.slice(11);
    expectUnauthorized(await me(`${h}.${p}.${flipped}`));
    const payload = { ...decodeJwt(accessToken), role: "admin" };
    const forged = Buffer.from(JSON.stringify(payload)).toString("base64url");
    expectUnauthorized(await me(`${h}.${forged}.${s}`));
    expect((await me(accessToken)).status).toBe(200); // the original still works
  });

  it("refuses alg:none, whatever the claims", async () => {
    const { accessToken } = await signupAndLogin();
    const claims = decodeJwt(accessToken);
    const none = new UnsecuredJWT({ ...claims }).encode();
    expectUnauthorized(await me(none));
    // The same with the typ header a real token carries.
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url");
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    expectUnauthorized(await me(`${header}.${body}.`));
  });

  it("refuses HS256 signed with the public key (algorithm confusion) and a token from another key", async () => {
    const { accessToken } = await signupAndLogin();
    const claims = decodeJwt(accessToken);
    const publicJwk = (await serverKey()).export({ format: "jwk" });
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .sign(new TextEncoder().encode(JSON.stringify({ kty: "OKP", crv: "Ed25519", x: publicJwk.x })));
    expectUnauthorized(await me(confused));
    const stranger = generateKeyPairSync("ed25519").privateKey;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" }).sign(stranger);
    expectUnauthorized(await me(foreign));
  });

  it("refuses a correctly signed token with the wrong audience, issuer or type, and accepts the right one", async () => {
    const { accessToken } = await signupAndLogin();
    const claims = decodeJwt(accessToken);
    const key = await serverKey();
    const sign = (over: Record<string, unknown>, typ = "at+jwt") =>
      new SignJWT({ ...claims, ...over }).setProtectedHeader({ alg: "EdDSA", typ }).sign(key);
    expect((await me(await sign({})).then((r) => r.status))).toBe(200); // the forging itself is sound
    expectUnauthorized(await me(await sign({ aud: "another-service" })));
    expectUnauthorized(await me(await sign({ iss: "https://evil.example" })));
    expectUnauthorized(await me(await sign({}, "JWT")));
    const { jti: _jti, ...noJti } = claims;
    expectUnauthorized(await me(await new SignJWT(noJti).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" }).sign(key)));
  });

  it("refuses a token without a family (sid), as issued before sid existed, or with another user's family", async () => {
    const { accessToken } = await signupAndLogin();
    const other = await signupAndLogin();
    const claims = decodeJwt(accessToken);
    const key = await serverKey();
    const sign = (payload: Record<string, unknown>) => new SignJWT(payload).setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" }).sign(key);
    const { sid: _sid, ...noSid } = claims;
    expectUnauthorized(await me(await sign(noSid)));
    expectUnauthorized(await me(await sign({ ...claims, sid: 42 })));
    expectUnauthorized(await me(await sign({ ...claims, sid: decodeJwt(other.accessToken).sid })));
    expect((await me(await sign(claims))).status).toBe(200);
  });

  it("refuses an expired token (15 minutes by default), by the server's clock", async () => {
    const { accessToken } = await signupAndLogin();
    srv.clock.advance(15 * MIN - 1000);
    expect((await me(accessToken)).status).toBe(200);
    srv.clock.advance(1000);
    expectUnauthorized(await me(accessToken));
  });

  it("refuses the token of a deleted user", async () => {
    const { user, accessToken } = await signupAndLogin();
    expect(await srv.latchkey.store.deleteUser(user.id)).toBe("ok");
    expectUnauthorized(await me(accessToken));
  });
});

describe("POST /token/refresh", () => {
  it("rotates: a new pair each time, and the new access token works", async () => {
    const { user, refreshToken } = await signupAndLogin();
    const one = await refresh(refreshToken);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    expect(one.body.refreshToken).not.toBe(refreshToken);
    expect((await me(one.body.accessToken)).body).toEqual({ user: { ...user, lastLoginAt: expect.any(String) } });
    const two = await refresh(one.body.refreshToken);
    expect(two.status).toBe(200);
  });

  it("revokes the whole family when a rotated token is used again, and leaves other logins alone", async () => {
    const { email, refreshToken } = await signupAndLogin();
    const other = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    const rotated = await refresh(refreshToken);
    expect(rotated.status).toBe(200);

    const replay = await refresh(refreshToken); // the thief (or the victim) replays the old token
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: "Invalid or expired refresh token" });
    // The legitimate newer token died with its family.
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
    // Another login (another family) is untouched.
    expect((await refresh(other.body.refreshToken)).status).toBe(200);
  });

  it("lets exactly one of two concurrent uses of one token win, then revokes the family", async () => {
    const { refreshToken } = await signupAndLogin();
    const both = await Promise.all([refresh(refreshToken), refresh(refreshToken)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = both.find((r) => r.status === 200)!;
    expect((await refresh(winner.body.refreshToken)).status).toBe(401);
  });

  it("expires a refresh token unused for 30 days", async () => {
    const { refreshToken } = await signupAndLogin();
    const used = await refresh(refreshToken);
    srv.clock.advance(30 * DAY - 1000);
    const kept = await refresh(used.body.refreshToken);
    expect(kept.status).toBe(200);
    srv.clock.advance(30 * DAY);
    expect((await refresh(kept.body.refreshToken)).status).toBe(401);
  });

  it("answers 401 for unknown or malformed tokens and 400 for a bad body", async () => {
    expect((await refresh("A".repeat(43))).status).toBe(401);
    expect((await refresh("short")).status).toBe(401);
    const bad = await request(srv.url, "POST", "/token/refresh", { body: { refreshToken: 42 } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toContainEqual({ path: "refreshToken", message: "Refresh token must be a string" });
  });
});

describe("POST /token/logout", () => {
  it("revokes the family and is idempotent", async () => {
    const { refreshToken } = await signupAndLogin();
    const rotated = await refresh(refreshToken);
    const out = await request(srv.url, "POST", "/token/logout", { body: { refreshToken: rotated.body.refreshToken } });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ message: "Logged out" });
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
    for (const token of [rotated.body.refreshToken, "A".repeat(43), "junk"]) {
      expect((await request(srv.url, "POST", "/token/logout", { body: { refreshToken: token } })).status).toBe(200);
    }
  });
});

describe("accounts.endSessions (logout-all, password change, role change)", () => {
  it("ends every family and every access token before its expiry, and a login right after works", async () => {
    const { user, email, accessToken, refreshToken } = await signupAndLogin();
    const second = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    await srv.latchkey.accounts.endSessions(user.id);
    expectUnauthorized(await me(accessToken));
    expectUnauthorized(await me(second.body.accessToken));
    expect((await refresh(refreshToken)).status).toBe(401);
    expect((await refresh(second.body.refreshToken)).status).toBe(401);
    // Same clock millisecond as the revocation: a new login is a new family, and its tokens work at once.
    const fresh = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    expect((await me(fresh.body.accessToken)).status).toBe(200);
    expect((await refresh(fresh.body.refreshToken)).status).toBe(200);
  });
});

describe("bearer routes and cookie routes stay apart", () => {
  it("cookie routes ignore a bearer token", async () => {
    const { accessToken } = await signupAndLogin();
    const res = await request(srv.url, "GET", "/me", { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(401);
  });

  it("bearer routes ignore the session cookie", async () => {
    const { email } = await signupAndLogin();
    const login = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } });
    const cookie = cookiePair(login.setCookie);
    expect((await request(srv.url, "GET", "/me", { cookie })).status).toBe(200);
    expectUnauthorized(await request(srv.url, "GET", "/token/me", { cookie }));
  });

  it("bearer routes skip the cross-site check; cookie routes keep it", async () => {
    const { email } = await signupAndLogin();
    const crossSite = { "sec-fetch-site": "cross-site", origin: "https://evil.example" };
    const tokenLogin = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD }, headers: crossSite });
    expect(tokenLogin.status).toBe(200);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD }, headers: crossSite })).status).toBe(403);
  });
});

describe("signing keys", () => {
  it("development: generates a key once, persists it, warns, and keeps tokens valid across a restart", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    let server = await startTestServer({ logger: createLogger("info", sink) });
    try {
      const { accessToken, refreshToken } = await signupAndLogin(server);
      const stored = await server.latchkey.store.tokens.getSetting(DEV_KEY_SETTING);
      expect(stored).toContain('"crv":"Ed25519"');
      expect(lines.some((l) => l.includes('"event":"tokens.dev_key"') && l.includes('"level":40'))).toBe(true);
      server = await server.restart();
      expect(await server.latchkey.store.tokens.getSetting(DEV_KEY_SETTING)).toBe(stored);
      expect((await me(accessToken, server)).status).toBe(200);
      expect((await refresh(refreshToken, server)).status).toBe(200);
      // No token or key ever reaches the log.
      const all = lines.join("\n");
      for (const secret of [accessToken, refreshToken, JSON.parse(stored!).d]) expect(all).not.toContain(secret);
    } finally {
      await server.destroy();
    }
  });

  it("JWT_PRIVATE_KEY (PEM): tokens are EdDSA under that key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    const server = await startTestServer({ env: { JWT_PRIVATE_KEY: pem.replace(/\n/g, "\\n"), JWT_ISSUER: "https://auth.example", JWT_AUDIENCE: "api" } });
    try {
      const { accessToken } = await signupAndLogin(server);
      const { jwtVerify } = await import("jose");
      const { payload } = await jwtVerify(accessToken, publicKey, { algorithms: ["EdDSA"], currentDate: new Date(server.clock()) });
      expect(payload).toMatchObject({ iss: "https://auth.example", aud: "api" });
      expect(await server.latchkey.store.tokens.getSetting(DEV_KEY_SETTING)).toBeNull(); // nothing generated
    } finally {
      await server.destroy();
    }
  });

  it("JWT_SECRET: tokens are HS256, and an EdDSA token is refused", async () => {
    const server = await startTestServer({ env: { JWT_SECRET: "k".repeat(24) + "-random-bytes", ACCESS_TOKEN_TTL: "5m" } });
    try {
      const { accessToken } = await signupAndLogin(server);
      expect(decodeProtectedHeader(accessToken)).toEqual({ alg: "HS256", typ: "at+jwt" });
      expect(decodeJwt(accessToken).exp! - decodeJwt(accessToken).iat!).toBe(300);
      expect((await me(accessToken, server)).status).toBe(200);
      const other = await new SignJWT(decodeJwt(accessToken))
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" })
        .sign(generateKeyPairSync("ed25519").privateKey);
      expectUnauthorized(await me(other, server));
    } finally {
      await server.destroy();
    }
  });

  it.each([
    [{ NODE_ENV: "production" }, /JWT_PRIVATE_KEY .* or JWT_SECRET .* is required in production/],
    [{ JWT_SECRET: "too-short" }, /JWT_SECRET must be at least 32 bytes/],
    [{ JWT_PRIVATE_KEY: "not a key" }, /JWT_PRIVATE_KEY must be an Ed25519 private key/],
    [{ JWT_PRIVATE_KEY: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }) as string }, /must be an Ed25519 key, got ec/],
    [{ JWT_PRIVATE_KEY: "x", JWT_SECRET: "y".repeat(32) }, /Set only one of/],
    [{ SMTP_URL: "http://mail" }, /SMTP_URL must start with smtp:\/\/ or smtps:\/\//],
    [{ NODE_ENV: "production", JWT_SECRET: "y".repeat(32), SMTP_URL: "smtp://mail" }, /PUBLIC_URL is required in production/],
    [{ REFRESH_TOKEN_TTL: "100d" }, /REFRESH_TOKEN_TTL must not be longer than REFRESH_TOKEN_ABSOLUTE_LIFETIME/],
  ])("refuses to start with %j", (env, message) => {
    expect(() => loadConfig(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => loadConfig(env as Record<string, string>)).toThrow(message);
  });
});

describe("logs", () => {
  it("carry no access or refresh token", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const server = await startTestServer({ logger: createLogger("debug", sink) });
    try {
      const { accessToken, refreshToken } = await signupAndLogin(server);
      const next = await refresh(refreshToken, server);
      await refresh(refreshToken, server); // reuse: logged as an event, without the token
      await me(accessToken, server);
      const all = lines.join("");
      expect(all).toContain('"event":"token.refresh_reuse"');
      for (const secret of [accessToken, refreshToken, next.body.refreshToken, next.body.accessToken]) {
        expect(all).not.toContain(secret);
      }
    } finally {
      await server.destroy();
    }
  });
});
