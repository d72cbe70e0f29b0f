// Enumeration (unknown email vs wrong password answer the same bytes) and the
// new-password policy (common passwords, the email itself).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commonPasswords, passwordPolicyViolation } from "../../src/auth/password-policy.js";
import { loadConfig } from "../../src/config.js";
import { request, uniqueEmail, type ApiResponse } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { PASSWORD, signup, startLimitedServer } from "./helpers.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startLimitedServer({ PASSWORD_REJECT_COMMON: "true" });
});
afterAll(() => srv.destroy());

/** Everything a client can see, minus the two headers that differ on every response by design. */
function observable(res: ApiResponse) {
  const headers = [...res.headers].filter(([name]) => name !== "x-request-id" && name !== "date");
  return { status: res.status, headers, text: res.text };
}

describe("enumeration", () => {
  it("answers an unknown email and a wrong password with byte-identical status, headers and body", async () => {
    const email = uniqueEmail();
    expect((await signup(srv, email)).status).toBe(201);
    const wrongPassword = await request(srv.url, "POST", "/login", {
      body: { email, password: "not the password" },
      headers: { "x-forwarded-for": "192.0.2.1" },
    });
    const unknownEmail = await request(srv.url, "POST", "/login", {
      body: { email: uniqueEmail("nobody"), password: "not the password" },
      headers: { "x-forwarded-for": "192.0.2.2" },
    });
    expect(wrongPassword.status).toBe(401);
    expect(observable(unknownEmail)).toEqual(observable(wrongPassword));
    expect(wrongPassword.text).toBe('{"error":"Invalid email or password"}');
    expect(wrongPassword.setCookie).toBeNull();
  });
});

describe("password policy at signup", () => {
  async function refusal(email: string, password: string) {
    const res = await signup(srv, email, password);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Invalid request body");
    expect(res.body.issues).toHaveLength(1);
    expect(res.body.issues[0].path).toBe("password");
    return res.body.issues[0].message as string;
  }

  it("refuses common passwords, whatever their case, and creates no user", async () => {
    const email = uniqueEmail();
    for (const password of ["password123", "PASSWORD123", "qwertyuiop", "iloveyou1"]) {
      expect(await refusal(email, password)).toMatch(/most common passwords/);
    }
    expect((await request(srv.url, "POST", "/login", { body: { email, password: "password123" } })).status).toBe(401);
  });

  it("refuses the email address itself or its local part, case-insensitively", async () => {
    const email = uniqueEmail("samelocal");
    expect(await refusal(email, email)).toBe("Password must not be the same as the email address");
    expect(await refusal(email, email.toUpperCase())).toBe("Password must not be the same as the email address");
    expect(await refusal(email, email.split("@")[0]!)).toBe("Password must not be the same as the email address");
  });

  it("accepts a long pasted passphrase and an uncommon password", async () => {
    expect((await signup(srv, uniqueEmail(), "x".repeat(200) + " pasted from a password manager ✓")).status).toBe(201);
    expect((await signup(srv, uniqueEmail(), PASSWORD)).status).toBe(201);
  });

  it("does not apply to login: an existing password is checked, not judged", async () => {
    const email = uniqueEmail();
    await signup(srv, email);
    const res = await request(srv.url, "POST", "/login", { body: { email, password: "password123" } });
    expect(res.status).toBe(401);
  });
});

describe("the common-password list", () => {
  it("ships at least 10,000 passwords of 8+ characters, lower case", () => {
    const list = commonPasswords();
    expect(list.size).toBeGreaterThanOrEqual(10_000);
    for (const p of ["password", "12345678", "baseball", "trustno1", "password123"]) expect(list.has(p)).toBe(true);
    for (const p of list) expect([...p].length >= 8 && p === p.toLowerCase()).toBe(true);
  });

  it("is switched by PASSWORD_REJECT_COMMON, on by default in production only", () => {
    expect(loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32) }).rejectCommonPasswords).toBe(true);
    expect(loadConfig({}).rejectCommonPasswords).toBe(false);
    expect(loadConfig({ PASSWORD_REJECT_COMMON: "true" }).rejectCommonPasswords).toBe(true);
    expect(passwordPolicyViolation("password123", "a@b.c", { rejectCommon: false })).toBeNull();
  });
});

describe("documented defaults", () => {
  it("has the documented abuse limits", () => {
    const c = loadConfig({});
    expect(c.rateLimits).toEqual({
      loginPerIp: { limit: 20, windowMs: 60_000 },
      loginPerEmail: { limit: 5, windowMs: 60_000 },
      signupPerIp: { limit: 10, windowMs: 3_600_000 },
      forgotPasswordPerEmail: { limit: 3, windowMs: 3_600_000 },
      forgotPasswordPerIp: { limit: 10, windowMs: 3_600_000 },
      forgotPasswordGlobal: { limit: 1000, windowMs: 3_600_000 },
      resetPasswordPerIp: { limit: 10, windowMs: 900_000 },
      lockout: { pairThreshold: 10, accountThreshold: 100, failureWindowMs: 3_600_000, durationMs: 900_000 },
    });
    expect(c.trustProxy).toBeNull();
    expect(c.argon2.maxQueue).toBe(64);
    expect(() => loadConfig({ LOGIN_IP_LIMIT: "0" })).toThrow(/LOGIN_IP_LIMIT must be a whole number/);
    expect(() => loadConfig({ LOCKOUT_THRESHOLD: "50", LOCKOUT_ACCOUNT_THRESHOLD: "20" })).toThrow(/LOCKOUT_ACCOUNT_THRESHOLD/);
  });
});
