// Second factor over real HTTP, on every engine (TEST_ENGINE): enrolling an
// authenticator app with codes computed here (RFC 6238 on the server's
// injected clock), the two-step login, recovery codes, replay and lockout,
// fresh re-authentication (for second-factor changes, the password, the
// address, deletion and admin writes), turning it off (by the owner or an
// admin), the notices, MFA_REQUIRED_FOR_ADMINS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken, hashToken } from "../src/auth/tokens.js";
import { base32Decode, totpAt } from "../src/auth/totp.js";
import { client, cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { startSmtp, type SmtpCapture } from "./helpers/smtp.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PASSWORD = "password123";
const STEP = 30_000;
const MINUTE = 60_000;

let srv: TestServer;
let smtp: SmtpCapture;
beforeAll(async () => {
  smtp = await startSmtp();
  srv = await startTestServer({ env: { EMAIL_VERIFICATION: "off", SMTP_URL: smtp.url, NOTIFY_NEW_DEVICE: "false" } });
});
afterAll(async () => {
  await srv?.destroy();
  await smtp?.close();
});

const subjects = async (to: string) => {
  await srv.latchkey.notices.settle();
  return smtp.inbox.filter((m) => m.to === to).map((m) => m.subject);
};

type Client = ReturnType<typeof client>;

/** A signed-up, signed-in account with its browser. */
async function account(name: string) {
  const email = uniqueEmail(name);
  expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  const browser = client(srv.url);
  expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200);
  return { email, browser };
}

/** The code the authenticator app shows now; the clock moves one step first, so no code is reused by accident. */
function codeNow(secret: Buffer): string {
  srv.clock.advance(STEP);
  return totpAt(secret, srv.clock());
}

/** An account with an authenticator app turned on: its secret and recovery codes. */
async function enrolled(name: string) {
  const { email, browser } = await account(name);
  const setup = await browser.post("/mfa/totp/setup");
  expect(setup.status).toBe(200);
  const secret = base32Decode(setup.body.secret)!;
  const enable = await browser.post("/mfa/totp/enable", { code: codeNow(secret) });
  expect(enable.status).toBe(200);
  return { email, browser, secret, recoveryCodes: enable.body.recoveryCodes as string[] };
}

/** POST /login for an account with a second factor: the browser now holds only the challenge cookie. */
async function firstStep(email: string, browser: Client = client(srv.url)) {
  const res = await browser.post("/login", { email, password: PASSWORD });
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ mfaRequired: true, methods: ["totp", "recovery_code"] });
  return browser;
}

describe("enrolling an authenticator app", () => {
  it("gives a secret, its otpauth URI and a QR code; nothing is on until a code from it is confirmed", async () => {
    const { email, browser } = await account("enrol");
    const other = client(srv.url);
    await other.post("/login", { email, password: PASSWORD });

    const setup = await browser.post("/mfa/totp/setup");
    expect(setup.status).toBe(200);
    expect(setup.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(setup.body.otpauthUrl);
    expect(url.protocol).toBe("otpauth:");
    expect(url.searchParams.get("secret")).toBe(setup.body.secret);
    expect(decodeURIComponent(url.pathname)).toBe(`/Latchkey:${email}`);
    expect(setup.body.qrSvg).toMatch(/^<svg [^>]*viewBox/);
    expect(setup.body.qrSvg).not.toMatch(/style|script/i); // works under the pages' strict CSP
    expect((await browser.get("/mfa")).body).toEqual({ totp: false, recoveryCodesLeft: 0 });
    // Not on yet: a log-in is still one step.
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).body.user.email).toBe(email);

    const secret = base32Decode(setup.body.secret)!;
    const wrong = await browser.post("/mfa/totp/enable", { code: String((Number(totpAt(secret, srv.clock())) + 1) % 1e6).padStart(6, "0") });
    expect(wrong.status).toBe(400);
    expect(wrong.body.issues).toEqual([{ path: "code", message: "Invalid code: type the code the app shows now" }]);

    const before = browser.cookie;
    const enable = await browser.post("/mfa/totp/enable", { code: codeNow(secret) });
    expect(enable.status).toBe(200);
    const codes = enable.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    // This browser goes on under a new token at aal2; the old token and every other session are dead.
    expect(browser.cookie).not.toBe(before);
    const me = await browser.get("/me");
    expect(me.body.session).toMatchObject({ aal: "aal2" });
    expect((await request(srv.url, "GET", "/me", { cookie: before })).status).toBe(401);
    expect((await other.get("/me")).status).toBe(401);
    expect((await browser.get("/mfa")).body).toEqual({ totp: true, recoveryCodesLeft: 10 });
    expect((await browser.post("/mfa/totp/setup")).status).toBe(409);
    expect((await browser.post("/mfa/totp/enable", { code: codeNow(secret) })).status).toBe(409);

    const { events } = await srv.latchkey.store.events.list({ userId: me.body.user.id, limit: 20 });
    expect(events.map((e) => e.type)).toContain("mfa.totp_enabled");
    expect(JSON.stringify(events)).not.toContain(setup.body.secret);
  });

  it("refuses to enable without a setup, and refuses malformed bodies with the documented 400", async () => {
    const { browser } = await account("no-setup");
    expect((await browser.post("/mfa/totp/enable", { code: "123456" })).body).toEqual({
      error: "No authenticator is being set up: start with POST /mfa/totp/setup",
    });
    for (const body of [{}, { code: 123456 }, { code: "" }, { code: "1".repeat(40) }, { code: "123456", extra: 1 }]) {
      const res = await browser.post("/mfa/totp/enable", body);
      expect([400, 409], JSON.stringify(body)).toContain(res.status);
      if (res.status === 400) expect(res.body.error).toEqual(expect.any(String));
    }
    expect((await browser.post("/mfa/totp/setup", { please: true })).status).toBe(400);
    expect((await request(srv.url, "POST", "/mfa/totp/setup")).status).toBe(401);
  });
});

describe("two-step login", () => {
  it("answers a right password with a challenge and no session; a code from the app finishes at aal2", async () => {
    const { email, secret } = await enrolled("two-step");
    const res = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } });
    expect(res.body).toEqual({ mfaRequired: true, methods: ["totp", "recovery_code"] });
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^mfa_challenge=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Lax; Path=\/; Max-Age=300$/);
    // The challenge is not a session.
    const challenge = cookies[0]!.split(";")[0]!;
    expect((await request(srv.url, "GET", "/me", { cookie: challenge })).status).toBe(401);

    const browser = client(srv.url);
    browser.cookie = challenge;
    const wrong = await browser.post("/login/mfa", { code: "000000" === totpAt(secret, srv.clock()) ? "111111" : "000000" });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: "Invalid code" });
    const done = await browser.post("/login/mfa", { code: codeNow(secret) }); // a mistyped code can be retried
    expect(done.status).toBe(200);
    expect(done.body.user.email).toBe(email);
    expect(browser.cookie).toMatch(/^session=[A-Za-z0-9_-]{43}$/); // the challenge cookie was cleared
    expect((await browser.get("/me")).body.session.aal).toBe("aal2");
    // The challenge finished once; it cannot start a second session.
    const again = await request(srv.url, "POST", "/login/mfa", { body: { code: codeNow(secret) }, cookie: challenge });
    expect(again.body).toEqual({ error: "Sign-in expired, log in again" });
  });

  it("answers a wrong password for an account with a second factor exactly as for any account", async () => {
    const { email } = await enrolled("wrong-password");
    const plain = await account("plain");
    const withMfa = await request(srv.url, "POST", "/login", { body: { email, password: "wrong password" } });
    const without = await request(srv.url, "POST", "/login", { body: { email: plain.email, password: "wrong password" } });
    expect(withMfa.status).toBe(401);
    expect({ text: withMfa.text, cookies: withMfa.headers.getSetCookie() }).toEqual({ text: without.text, cookies: without.headers.getSetCookie() });
  });

  it("accepts each code once (replay refused) and a challenge for 5 minutes only", async () => {
    const { email, secret } = await enrolled("replay");
    const code = codeNow(secret);
    const first = await firstStep(email);
    expect((await first.post("/login/mfa", { code })).status).toBe(200);
    const second = await firstStep(email);
    expect((await second.post("/login/mfa", { code })).body).toEqual({ error: "Invalid code" }); // same step, same code
    srv.clock.advance(5 * MINUTE);
    expect((await second.post("/login/mfa", { code: codeNow(secret) })).body).toEqual({ error: "Sign-in expired, log in again" });
  });

  it("lets exactly one of two simultaneous finishes of one challenge through", async () => {
    const { email, secret } = await enrolled("race");
    const browser = await firstStep(email);
    const code = codeNow(secret);
    const results = await Promise.all([browser.post("/login/mfa", { code }), request(srv.url, "POST", "/login/mfa", { body: { code }, cookie: browser.cookie })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it("finishes with a recovery code, once each; the count goes down and the use is recorded", async () => {
    const { email, secret, recoveryCodes } = await enrolled("recovery");
    const browser = await firstStep(email);
    expect((await browser.post("/login/mfa", { recoveryCode: recoveryCodes[3]!.toUpperCase().replaceAll("-", " ") })).status).toBe(200);
    expect((await browser.get("/mfa")).body).toEqual({ totp: true, recoveryCodesLeft: 9 });
    const again = await firstStep(email);
    expect((await again.post("/login/mfa", { recoveryCode: recoveryCodes[3] })).status).toBe(401);
    expect((await again.post("/login/mfa", { recoveryCode: "not-a-code" })).status).toBe(401);
    expect((await again.post("/login/mfa", { code: codeNow(secret) })).status).toBe(200);
    const me = await again.get("/me");
    const { events } = await srv.latchkey.store.events.list({ userId: me.body.user.id, types: ["mfa.recovery_code_used"], limit: 5 });
    expect(events.map((e) => e.details)).toEqual([{ remaining: 9 }]);
  });

  it("refuses malformed second steps with the documented 400 and a missing challenge with 401, never a 500", async () => {
    const { email } = await enrolled("bad-input");
    const browser = await firstStep(email);
    for (const body of [{}, { code: 5 }, { code: "123456", recoveryCode: "abcd" }, { recoveryCode: "x".repeat(100) }, [], "code"]) {
      const res = await browser.post("/login/mfa", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    const none = await request(srv.url, "POST", "/login/mfa", { body: { code: "123456" } });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: "Sign-in expired, log in again" });
    const forged = await request(srv.url, "POST", "/login/mfa", { body: { code: "123456" }, cookie: "mfa_challenge=" + "A".repeat(43) });
    expect(forged.status).toBe(401);
  });
});

describe("two-step login for bearer clients", () => {
  it("answers a right password with a challenge token and no tokens; POST /token/login/mfa gives the pair", async () => {
    const { email, secret } = await enrolled("bearer");
    const first = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ mfaRequired: true, methods: ["totp", "recovery_code"], challengeToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(first.headers.getSetCookie()).toEqual([]);
    const { challengeToken } = first.body;

    // A challenge of one kind never finishes the other.
    const asCookie = await request(srv.url, "POST", "/login/mfa", { body: { code: codeNow(secret) }, cookie: `mfa_challenge=${challengeToken}` });
    expect(asCookie.body).toEqual({ error: "Sign-in expired, log in again" });
    const browser = await firstStep(email);
    const cookieChallenge = browser.cookie!.split("=")[1]!;
    expect((await request(srv.url, "POST", "/token/login/mfa", { body: { challengeToken: cookieChallenge, code: codeNow(secret) } })).status).toBe(401);

    expect((await request(srv.url, "POST", "/token/login/mfa", { body: { challengeToken, code: "12345x" } })).body).toEqual({ error: "Invalid code" });
    const done = await request(srv.url, "POST", "/token/login/mfa", { body: { challengeToken, code: codeNow(secret) } });
    expect(done.status).toBe(200);
    expect(done.body.tokenType).toBe("Bearer");
    const me = await request(srv.url, "GET", "/token/me", { headers: { authorization: `Bearer ${done.body.accessToken}` } });
    expect(me.body.user.email).toBe(email);
    expect((await request(srv.url, "POST", "/token/login/mfa", { body: { challengeToken, code: codeNow(secret) } })).status).toBe(401); // spent
    for (const body of [{}, { challengeToken }, { challengeToken: 5, code: "123456" }, { challengeToken, code: "1", recoveryCode: "2" }]) {
      expect((await request(srv.url, "POST", "/token/login/mfa", { body })).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("wrong codes and the lockout", () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ env: { EMAIL_VERIFICATION: "off", LOCKOUT_THRESHOLD: "3", LOCKOUT_ACCOUNT_THRESHOLD: "3" } });
  });
  afterAll(() => strict?.destroy());

  it("counts wrong codes like wrong passwords, and a right password in between does not reset the count", async () => {
    const email = uniqueEmail("lock");
    await request(strict.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    const browser = client(strict.url);
    await browser.post("/login", { email, password: PASSWORD });
    const setup = await browser.post("/mfa/totp/setup");
    const secret = base32Decode(setup.body.secret)!;
    strict.clock.advance(STEP);
    expect((await browser.post("/mfa/totp/enable", { code: totpAt(secret, strict.clock()) })).status).toBe(200);

    const guesser = client(strict.url);
    for (let i = 0; i < 3; i++) {
      // The attacker knows the password: each round starts a new challenge and guesses once.
      expect((await guesser.post("/login", { email, password: PASSWORD })).body.mfaRequired).toBe(true);
      expect((await guesser.post("/login/mfa", { code: "000000" })).status).toBe(401);
    }
    strict.clock.advance(STEP);
    const locked = await guesser.post("/login", { email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("fresh re-authentication", () => {
  it("refuses sensitive second-factor changes on an old session, and POST /reauth (password + code) makes it fresh", async () => {
    const { browser, secret, recoveryCodes } = await enrolled("reauth");
    srv.clock.advance(11 * MINUTE);
    const stale = await browser.post("/mfa/recovery-codes");
    expect(stale.status).toBe(401);
    expect(stale.body).toEqual({ error: "Re-authentication required", reauth: { maxAge: 600, methods: ["password", "totp", "recovery_code"] } });

    expect((await browser.post("/reauth", { password: PASSWORD })).body.issues[0].path).toBe("code");
    expect((await browser.post("/reauth", { password: "wrong password", code: codeNow(secret) })).status).toBe(401);
    expect((await browser.post("/reauth", { password: PASSWORD, code: "000000" === totpAt(secret, srv.clock()) ? "111111" : "000000" })).status).toBe(401);
    const old = browser.cookie;
    const reauth = await browser.post("/reauth", { password: PASSWORD, code: codeNow(secret) });
    expect(reauth.status).toBe(200);
    expect(reauth.body.session).toEqual({ id: expect.any(String), authenticatedAt: new Date(srv.clock()).toISOString(), aal: "aal2", impersonatorId: null });
    expect((await request(srv.url, "GET", "/me", { cookie: old })).status).toBe(401); // rotated

    const fresh = await browser.post("/mfa/recovery-codes");
    expect(fresh.status).toBe(200);
    expect(fresh.body.recoveryCodes).toHaveLength(10);
    const { email } = (await browser.get("/me")).body.user;
    const login = await firstStep(email);
    expect((await login.post("/login/mfa", { recoveryCode: recoveryCodes[0] })).status).toBe(401); // the old codes are void
    expect((await login.post("/login/mfa", { recoveryCode: fresh.body.recoveryCodes[0] })).status).toBe(200);
  });

  it("re-authenticates an account without a second factor with the password alone (aal1)", async () => {
    const { browser } = await account("reauth-plain");
    srv.clock.advance(11 * MINUTE);
    expect((await browser.post("/mfa/totp/setup")).body.error).toBe("Re-authentication required");
    const reauth = await browser.post("/reauth", { password: PASSWORD });
    expect(reauth.body.session.aal).toBe("aal1");
    expect((await browser.post("/mfa/totp/setup")).status).toBe(200);
  });
});

describe("turning it off", () => {
  it("removes the app and the codes, ends other sessions, and log-in is one step again", async () => {
    const { email, browser, secret } = await enrolled("disable");
    const other = await firstStep(email);
    expect((await other.post("/login/mfa", { code: codeNow(secret) })).status).toBe(200);
    expect((await browser.post("/mfa/totp/disable")).status).toBe(200);
    expect((await browser.get("/me")).status).toBe(200);
    expect((await other.get("/me")).status).toBe(401);
    expect((await browser.get("/mfa")).body).toEqual({ totp: false, recoveryCodesLeft: 0 });
    expect((await browser.post("/mfa/totp/disable")).status).toBe(409);
    const login = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } });
    expect(login.body.user.email).toBe(email);
  });
});

describe("sensitive account actions with a second factor", () => {
  it("need a fresh aal2 session even with the right current password; a password change keeps the second factor", async () => {
    const { email, browser, secret } = await enrolled("sensitive");
    expect((await browser.post("/password", { currentPassword: PASSWORD, newPassword: "a new password 1" })).status).toBe(200); // fresh
    srv.clock.advance(11 * MINUTE);
    const stale = await browser.post("/password", { currentPassword: "a new password 1", newPassword: "a new password 2" });
    expect(stale.body.error).toBe("Re-authentication required");
    expect((await browser.post("/email", { newEmail: uniqueEmail("moved"), currentPassword: "a new password 1" })).body.error).toBe("Re-authentication required");
    expect((await browser.delete("/me", { password: "a new password 1" })).body.error).toBe("Re-authentication required");
    expect((await browser.post("/reauth", { password: "a new password 1", code: codeNow(secret) })).status).toBe(200);
    expect((await browser.post("/password", { currentPassword: "a new password 1", newPassword: "a new password 2" })).status).toBe(200);
    const login = await request(srv.url, "POST", "/login", { body: { email, password: "a new password 2" } });
    expect(login.body).toEqual({ mfaRequired: true, methods: ["totp", "recovery_code"] });
  });

  it("a password reset never removes the second factor", async () => {
    const { email, browser } = await enrolled("reset");
    const userId = (await browser.get("/me")).body.user.id;
    const token = generateToken();
    const now = srv.clock();
    await srv.latchkey.store.tokens.createResetToken({ tokenHash: hashToken(token), userId, createdAt: now, expiresAt: now + 60 * MINUTE });
    expect((await request(srv.url, "POST", "/reset-password", { body: { token, newPassword: "reset password 1" } })).status).toBe(200);
    const login = await request(srv.url, "POST", "/login", { body: { email, password: "reset password 1" } });
    expect(login.body.mfaRequired).toBe(true);
  });

  it("mails the owner when it is turned on or off and when a recovery code is used", async () => {
    const { email, browser, recoveryCodes } = await enrolled("notices");
    const other = await firstStep(email);
    expect((await other.post("/login/mfa", { recoveryCode: recoveryCodes[0] })).status).toBe(200);
    expect((await browser.post("/mfa/totp/disable")).status).toBe(200);
    expect(await subjects(email)).toEqual(["Two-factor authentication was turned on", "A recovery code was used", "Two-factor authentication was turned off"]);
    const notice = smtp.inbox.find((m) => m.to === email && m.subject === "A recovery code was used")!;
    expect(notice.text).toMatch(/\/not-me\?token=[A-Za-z0-9_-]{43}/);
    expect(notice.text).not.toContain(recoveryCodes[0]);
  });
});

describe("admins", () => {
  const ADMIN_EMAIL = uniqueEmail("admin");
  const ADMIN_PASSWORD = "admin passphrase 1";
  let adminSrv: TestServer;
  beforeAll(async () => {
    adminSrv = await startTestServer({
      env: { EMAIL_VERIFICATION: "off", SMTP_URL: smtp.url, LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD, MFA_REQUIRED_FOR_ADMINS: "true" },
    });
  });
  afterAll(() => adminSrv?.destroy());
  const code = (secret: Buffer) => {
    adminSrv.clock.advance(STEP);
    return totpAt(secret, adminSrv.clock());
  };

  it("MFA_REQUIRED_FOR_ADMINS keeps an admin without a second factor out of admin routes; writes need a fresh sign-in; an admin can remove a user's factors", async () => {
    const admin = client(adminSrv.url);
    expect((await admin.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200);
    const refused = await admin.get("/users");
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: "Admins need a second factor: enrol one on /account first" });
    const adminSecret = base32Decode((await admin.post("/mfa/totp/setup")).body.secret)!;
    expect((await admin.post("/mfa/totp/enable", { code: code(adminSecret) })).status).toBe(200);
    expect((await admin.get("/users")).status).toBe(200);

    // A user who lost their phone and their codes.
    const email = uniqueEmail("lost-phone");
    await request(adminSrv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    const user = client(adminSrv.url);
    await user.post("/login", { email, password: PASSWORD });
    const userId = (await user.get("/me")).body.user.id;
    const userSecret = base32Decode((await user.post("/mfa/totp/setup")).body.secret)!;
    expect((await user.post("/mfa/totp/enable", { code: code(userSecret) })).status).toBe(200);

    adminSrv.clock.advance(11 * MINUTE);
    expect((await admin.get("/users")).status).toBe(200); // reading needs no fresh sign-in
    expect((await admin.delete(`/users/${userId}/mfa`)).body.error).toBe("Re-authentication required");
    const reauth = await admin.post("/reauth", { password: ADMIN_PASSWORD, code: code(adminSecret) });
    expect(reauth.status).toBe(200);
    expect(cookiePair(reauth.setCookie)).toBe(admin.cookie);
    const removed = await admin.delete(`/users/${userId}/mfa`);
    expect(removed.status).toBe(200);
    expect((await admin.delete(`/users/${userId}/mfa`)).status).toBe(409);
    expect((await admin.delete("/users/nobody/mfa")).status).toBe(404);

    expect((await user.get("/me")).status).toBe(401); // every session of the user ended
    expect((await request(adminSrv.url, "POST", "/login", { body: { email, password: PASSWORD } })).body.user.email).toBe(email);
    const { events } = await adminSrv.latchkey.store.events.list({ userId, types: ["mfa.totp_disabled"], limit: 5 });
    expect(events).toMatchObject([{ actorId: expect.any(String) }]);
    await adminSrv.latchkey.notices.settle();
    expect(smtp.inbox.filter((m) => m.to === email).map((m) => m.subject)).toContain("Your second factor was removed");
  });
});
