// Password reset by email over real HTTP and a real (in-process) SMTP server:
// the test reads the message the server received and follows its link.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPasswordHasher, PasswordHasherBusyError, type PasswordHasher } from "../src/auth/passwords.js";
import { createLatchkey, type Latchkey } from "../src/latchkey.js";
import { createLogger } from "../src/log.js";
import { openStore } from "../src/store/open.js";
import { client, request, uniqueEmail, type ApiResponse } from "./helpers/http.js";
import { startSmtp } from "./helpers/smtp.js";
import { createTestClock, engineEnv, startTestServer, tempDir, testConfig, testEngine, type TestServer } from "./helpers/server.js";

const MIN = 60_000;
const PUBLIC_URL = "http://auth.example.test";
const PASSWORD = "password123";
const NEW_PASSWORD = "a brand new passphrase";

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let srv: TestServer;
beforeAll(async () => {
  smtp = await startSmtp();
  srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, MAIL_FROM: "Latchkey <auth@example.test>" } });
});
afterAll(async () => {
  await srv?.destroy();
  await smtp?.close();
});

async function newAccount(server: Reachable = srv) {
  const email = uniqueEmail("reset");
  expect((await request(server.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  return email;
}

/** Any server these helpers talk to: only its URL is needed. */
type Reachable = Pick<TestServer, "url">;

const forgot = (email: string, server: Reachable = srv) => request(server.url, "POST", "/forgot-password", { body: { email } });
const reset = (token: string, newPassword = NEW_PASSWORD, server: Reachable = srv) =>
  request(server.url, "POST", "/reset-password", { body: { token, newPassword } });
const login = (email: string, password: string) => request(srv.url, "POST", "/login", { body: { email, password } });

/** Asks for a link and returns the one that arrived by email. */
async function resetLinkFor(email: string): Promise<URL> {
  const res = await forgot(email);
  expect(res.status).toBe(200);
  await srv.latchkey.resets.settle();
  const mail = mailsTo(email).at(-1);
  expect(mail, `no reset email for ${email}`).toBeDefined();
  const link = /https?:\/\/\S+/.exec(mail!.text)?.[0];
  expect(link).toBeDefined();
  return new URL(link!);
}

/** The reset mails to this address (signups also mail a verification link: EMAIL_VERIFICATION=optional). */
const mailsTo = (email: string) => smtp.inbox.filter((m) => m.to === email && m.subject === "Reset your password");
const comparable = (res: ApiResponse) => ({
  status: res.status,
  text: res.text,
  headers: [...res.headers].filter(([k]) => k !== "date" && k !== "x-request-id"),
});

describe("the reset flow", () => {
  it("emails a link; following it sets the password and ends every session and token", async () => {
    const email = await newAccount();
    const browser = client(srv.url);
    await browser.post("/login", { email, password: PASSWORD });
    const bearer = (await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } })).body;
    expect((await browser.get("/me")).status).toBe(200);

    const link = await resetLinkFor(email);
    const mail = mailsTo(email).at(-1)!;
    expect(mail.subject).toBe("Reset your password");
    expect(mail.from).toBe("auth@example.test");
    expect(link.origin + link.pathname).toBe(`${PUBLIC_URL}/reset-password`);
    const token = link.searchParams.get("token")!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits

    // Following the link (a GET, as a mail scanner would) changes nothing.
    const landing = await request(srv.url, "GET", link.pathname + link.search);
    expect(landing.status).toBe(200);
    expect(landing.text).not.toContain(token);
    expect((await browser.get("/me")).status).toBe(200);

    const done = await reset(token);
    expect(done.status).toBe(200);
    expect(done.body.message).toMatch(/Password has been reset/);

    expect((await browser.get("/me")).status).toBe(401);
    expect((await request(srv.url, "GET", "/token/me", { headers: { authorization: `Bearer ${bearer.accessToken}` } })).status).toBe(401);
    expect((await request(srv.url, "POST", "/token/refresh", { body: { refreshToken: bearer.refreshToken } })).status).toBe(401);
    expect((await login(email, PASSWORD)).status).toBe(401);
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);

    // The audit log has the request and the reset, and no token or link in it.
    const user = (await srv.latchkey.store.findUserByEmail(email))!;
    const { events } = await srv.latchkey.store.events.list({ userId: user.id, types: ["password.reset_requested", "password.reset"], limit: 10 });
    expect(events.map((e) => e.type)).toEqual(["password.reset", "password.reset_requested"]);
    expect(events.every((e) => e.ip === "127.0.0.1")).toBe(true);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("uses a token once", async () => {
    const email = await newAccount();
    const token = (await resetLinkFor(email)).searchParams.get("token")!;
    expect((await reset(token)).status).toBe(200);
    const again = await reset(token, "yet another password");
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: "Invalid or expired token" });
    expect((await login(email, "yet another password")).status).toBe(401);
  });

  it("lets exactly one of several concurrent uses of a token succeed", async () => {
    const email = await newAccount();
    const token = (await resetLinkFor(email)).searchParams.get("token")!;
    const results = await Promise.all(["password-one", "password-two", "password-three"].map((p) => reset(token, p)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
  });

  it("expires a token after one hour", async () => {
    const email = await newAccount();
    const early = (await resetLinkFor(email)).searchParams.get("token")!;
    srv.clock.advance(60 * MIN - 1000);
    expect((await reset(early)).status).toBe(200); // still within the hour

    const late = (await resetLinkFor(email)).searchParams.get("token")!;
    srv.clock.advance(60 * MIN);
    const res = await reset(late, "too late for this");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Invalid or expired token" });
    expect((await login(email, NEW_PASSWORD)).status).toBe(200);
  });

  it("invalidates the other outstanding links of the user once one is used", async () => {
    const email = await newAccount();
    const first = (await resetLinkFor(email)).searchParams.get("token")!;
    const second = (await resetLinkFor(email)).searchParams.get("token")!;
    expect(first).not.toBe(second);
    expect((await reset(second)).status).toBe(200);
    expect((await reset(first, "an older link")).status).toBe(400);
  });

  it("refuses unknown and malformed tokens, and validates the new password", async () => {
    for (const token of ["A".repeat(43), "short", "x".repeat(200)]) {
      const res = await reset(token);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: "Invalid or expired token" });
    }
    const weak = await reset("A".repeat(43), "short");
    expect(weak.status).toBe(400);
    expect(weak.body.issues).toContainEqual({ path: "newPassword", message: "Password must be at least 8 characters" });
    const missing = await request(srv.url, "POST", "/reset-password", { body: { newPassword: NEW_PASSWORD } });
    expect(missing.status).toBe(400);
    expect(missing.body.issues).toContainEqual({ path: "token", message: "Token must be a string" });
  });
});

describe("POST /forgot-password", () => {
  it("answers a known and an unknown email identically, and emails only the known one", async () => {
    const known = await newAccount();
    const unknown = uniqueEmail("nobody");
    const a = await forgot(known);
    const b = await forgot(unknown);
    expect(a.status).toBe(200);
    expect(comparable(a)).toEqual(comparable(b));
    expect(a.body).toEqual({ message: "If an account exists for this email, a password reset link has been sent to it." });
    await srv.latchkey.resets.settle();
    expect(mailsTo(known)).toHaveLength(1);
    expect(mailsTo(unknown)).toHaveLength(0);
  });

  it("normalises the address like signup", async () => {
    const email = await newAccount();
    expect((await forgot(`  ${email.toUpperCase()} `)).status).toBe(200);
    await srv.latchkey.resets.settle();
    expect(mailsTo(email)).toHaveLength(1);
  });

  it("allows 3 requests per email per hour, the same way for unknown emails", async () => {
    const known = await newAccount();
    const unknown = uniqueEmail("nobody");
    for (let i = 0; i < 3; i++) {
      expect((await forgot(known)).status).toBe(200);
      expect((await forgot(unknown)).status).toBe(200);
    }
    const a = await forgot(known);
    const b = await forgot(unknown);
    expect(a.status).toBe(429);
    expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(comparable(a)).toEqual(comparable(b));
    await srv.latchkey.resets.settle();
    expect(mailsTo(known)).toHaveLength(3);
    // Another address is not affected; the window ends after an hour.
    expect((await forgot(uniqueEmail("other"))).status).toBe(200);
    srv.clock.advance(60 * MIN);
    expect((await forgot(known)).status).toBe(200);
  });

  it("refuses a bad body with 400", async () => {
    const res = await request(srv.url, "POST", "/forgot-password", { body: { email: "" } });
    expect(res.status).toBe(400);
    expect(res.body.issues).toContainEqual({ path: "email", message: "Email is required" });
    expect((await request(srv.url, "POST", "/forgot-password", { raw: "email=x", headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(415);
  });

  it("is still a cross-site-checked route", async () => {
    const res = await request(srv.url, "POST", "/forgot-password", {
      body: { email: uniqueEmail() },
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(res.status).toBe(403);
  });
});

describe("mail without SMTP_URL", () => {
  const capture = () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    return { lines, logger: createLogger("debug", sink) };
  };

  it("development: writes the link to the log at info, with a banner", async () => {
    const { lines, logger } = capture();
    const server = await startTestServer({ env: { NODE_ENV: "development", PUBLIC_URL: "http://localhost:4000" }, logger });
    try {
      const email = await newAccount(server);
      expect((await forgot(email, server)).status).toBe(200);
      await server.latchkey.resets.settle();
      const entry = lines.map((l) => JSON.parse(l)).find((e) => e.event === "mail.development" && e.subject === "Reset your password");
      expect(entry).toBeDefined();
      expect(entry.level).toBe(30); // info
      expect(entry.msg).toContain("DEVELOPMENT MAIL (SMTP_URL is not set)");
      const link = /http:\/\/localhost:4000\/reset-password\?token=([A-Za-z0-9_-]{43})/.exec(entry.msg);
      expect(link).not.toBeNull();
      expect((await reset(link![1]!, NEW_PASSWORD, server)).status).toBe(200); // the logged link works
    } finally {
      await server.destroy();
    }
  });

  it("test and production: sends nothing and logs no token", async () => {
    const envs: Record<string, string>[] = [{}, { NODE_ENV: "production", JWT_SECRET: "s".repeat(40), PUBLIC_URL: "http://127.0.0.1" }];
    for (const env of envs) {
      const { lines, logger } = capture();
      const server = await startTestServer({ env, logger });
      try {
        const email = await newAccount(server);
        expect((await forgot(email, server)).status).toBe(200);
        await server.latchkey.resets.settle();
        const all = lines.join("\n");
        expect(all).toContain('"event":"mail.not_configured"');
        expect(all).not.toMatch(/token=/);
        expect(all).not.toMatch(/[A-Za-z0-9_-]{43}/);
      } finally {
        await server.destroy();
      }
    }
  });

  it("an unreachable SMTP server: the answer is the same 200, and the failure is logged", async () => {
    const { lines, logger } = capture();
    const dead = await startSmtp();
    await dead.close(); // its port now refuses connections
    const server = await startTestServer({ env: { SMTP_URL: dead.url, PUBLIC_URL }, logger });
    try {
      const email = await newAccount(server);
      const res = await forgot(email, server);
      expect(res.status).toBe(200);
      await server.latchkey.resets.settle();
      expect(lines.some((l) => l.includes('"event":"password_reset.send_failed"') && l.includes('"level":50'))).toBe(true);
    } finally {
      await server.destroy();
    }
  });

  it("with SMTP: logs neither the link nor the token", async () => {
    const { lines, logger } = capture();
    const server = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL }, logger });
    try {
      const email = await newAccount(server);
      expect((await forgot(email, server)).status).toBe(200);
      await server.latchkey.resets.settle();
      const token = /token=([A-Za-z0-9_-]{43})/.exec(mailsTo(email).at(-1)!.text)![1]!;
      expect((await reset(token, NEW_PASSWORD, server)).status).toBe(200);
      const all = lines.join("\n");
      expect(all).toContain('"event":"password_reset.sent"');
      expect(all).not.toContain(token);
      expect(all).not.toContain(NEW_PASSWORD);
    } finally {
      await server.destroy();
    }
  });
});

/**
 * The real Argon2id hasher, counting the hashes it is asked for; `busy` makes
 * it refuse like a full queue does. Served over real HTTP on the TEST_ENGINE.
 */
async function startCountingServer(env: Record<string, string> = {}) {
  const dir = tempDir();
  const services = engineEnv(testEngine());
  const config = testConfig({ DATABASE_URL: `sqlite:${join(dir.path, "reset.db")}`, ...services.env, SMTP_URL: smtp.url, PUBLIC_URL, ...env });
  const real = createPasswordHasher(config.argon2);
  const hasher = { hashes: 0, busy: false };
  const passwords: PasswordHasher = {
    hash: (password) => {
      hasher.hashes++;
      return hasher.busy ? Promise.reject(new PasswordHasherBusyError()) : real.hash(password);
    },
    verify: (hash, password) => real.verify(hash, password),
    verifyDummy: (password) => real.verifyDummy(password),
    needsRehash: (hash) => real.needsRehash(hash),
  };
  const clock = createTestClock();
  const store = await openStore(config);
  const latchkey: Latchkey = createLatchkey({ config, store, clock, passwords, backgroundTasks: false });
  const server: Server = createServer(latchkey.nodeListener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = async () => {
    await new Promise((resolve) => server.close(resolve));
    latchkey.stop();
    await store.close();
    await services.cleanup();
    dir.remove();
  };
  return { url, latchkey, hasher, clock, stop };
}

describe("POST /reset-password under attack", () => {
  it("never hashes a password for an unknown, used or expired token", async () => {
    const s = await startCountingServer();
    try {
      const email = uniqueEmail("reset");
      expect((await request(s.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
      const linkFor = async () => {
        expect((await forgot(email, s)).status).toBe(200);
        await s.latchkey.resets.settle();
        return /token=([A-Za-z0-9_-]{43})/.exec(mailsTo(email).at(-1)!.text)![1]!;
      };
      const used = await linkFor();
      expect((await reset(used, NEW_PASSWORD, s)).status).toBe(200);
      const expired = await linkFor();
      s.clock.advance(61 * MIN);

      const before = s.hasher.hashes;
      const bogus = Array.from({ length: 30 }, (_, i) => `${"A".repeat(40)}${String(i).padStart(3, "0")}`);
      const answers = await Promise.all([...bogus, used, expired].map((token) => reset(token, "a perfectly good password", s)));
      for (const res of answers) expect(res.body).toEqual({ error: "Invalid or expired token" });
      expect(s.hasher.hashes).toBe(before); // no Argon2id work for any of them
    } finally {
      await s.stop();
    }
  });

  it("keeps a real link working when the hasher is too busy (503), and spends it on success", async () => {
    const s = await startCountingServer();
    try {
      const email = uniqueEmail("reset");
      expect((await request(s.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
      expect((await forgot(email, s)).status).toBe(200);
      await s.latchkey.resets.settle();
      const token = /token=([A-Za-z0-9_-]{43})/.exec(mailsTo(email).at(-1)!.text)![1]!;
      s.hasher.busy = true;
      const busy = await reset(token, NEW_PASSWORD, s);
      expect(busy.status).toBe(503);
      expect(busy.headers.get("retry-after")).toBe("1");
      s.hasher.busy = false;
      expect((await reset(token, NEW_PASSWORD, s)).status).toBe(200);
      expect((await reset(token, "yet another password", s)).status).toBe(400);
      expect((await request(s.url, "POST", "/login", { body: { email, password: NEW_PASSWORD } })).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it("limits each client IP (default 10 per 15 minutes) with 429 + Retry-After; other clients go on", async () => {
    const s = await startCountingServer({ TRUST_PROXY: "1", RESET_PASSWORD_IP_LIMIT: "" });
    try {
      const from = (ip: string) => ({ headers: { "x-forwarded-for": ip } });
      const attempt = (ip: string) =>
        request(s.url, "POST", "/reset-password", { body: { token: "A".repeat(43), newPassword: NEW_PASSWORD }, ...from(ip) });
      for (let i = 0; i < 10; i++) expect((await attempt("203.0.113.70")).status).toBe(400);
      const refused = await attempt("203.0.113.70");
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: "Too many attempts, try again later" });
      expect(refused.headers.get("retry-after")).toBe(String(15 * 60));
      expect((await attempt("203.0.113.71")).status).toBe(400);
      s.clock.advance(15 * MIN);
      expect((await attempt("203.0.113.70")).status).toBe(400);
    } finally {
      await s.stop();
    }
  });
});

describe("POST /forgot-password per client IP and server-wide", () => {
  const from = (ip: string) => ({ headers: { "x-forwarded-for": ip } });
  const forgotFrom = (server: { url: string }, email: string, ip: string) =>
    request(server.url, "POST", "/forgot-password", { body: { email }, ...from(ip) });

  it("allows one client 10 requests an hour (default), whatever the addresses, the same for known and unknown ones", async () => {
    const s = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, TRUST_PROXY: "1", FORGOT_PASSWORD_IP_LIMIT: "" } });
    try {
      const known = await newAccount(s);
      for (let i = 0; i < 10; i++) expect((await forgotFrom(s, uniqueEmail("sweep"), "203.0.113.80")).status).toBe(200);
      const a = await forgotFrom(s, known, "203.0.113.80");
      const b = await forgotFrom(s, uniqueEmail("nobody"), "203.0.113.80");
      expect(a.status).toBe(429);
      expect(a.body).toEqual({ error: "Too many password reset requests, try again later" });
      expect(Number(a.headers.get("retry-after"))).toBe(60 * 60);
      expect(comparable(a)).toEqual(comparable(b));
      await s.latchkey.resets.settle();
      expect(mailsTo(known)).toHaveLength(0);
      // Another client is not affected, and the known address's own budget was not used up by the refusal.
      expect((await forgotFrom(s, known, "203.0.113.81")).status).toBe(200);
      await s.latchkey.resets.settle();
      expect(mailsTo(known)).toHaveLength(1);
      s.clock.advance(60 * MIN);
      expect((await forgotFrom(s, uniqueEmail("sweep"), "203.0.113.80")).status).toBe(200);
    } finally {
      await s.destroy();
    }
  });

  it("stops every client at the server-wide ceiling (FORGOT_PASSWORD_GLOBAL_LIMIT per hour), known and unknown alike", async () => {
    const s = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, TRUST_PROXY: "1", FORGOT_PASSWORD_GLOBAL_LIMIT: "5" } });
    try {
      const known = await newAccount(s);
      for (let i = 0; i < 5; i++) expect((await forgotFrom(s, uniqueEmail("sweep"), `203.0.113.${90 + i}`)).status).toBe(200);
      const a = await forgotFrom(s, known, "198.51.100.90");
      const b = await forgotFrom(s, uniqueEmail("nobody"), "198.51.100.91");
      expect(a.status).toBe(429);
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(comparable(a)).toEqual(comparable(b));
      await s.latchkey.resets.settle();
      expect(mailsTo(known)).toHaveLength(0);
      s.clock.advance(60 * MIN);
      expect((await forgotFrom(s, known, "198.51.100.90")).status).toBe(200);
      await s.latchkey.resets.settle();
      expect(mailsTo(known)).toHaveLength(1);
    } finally {
      await s.destroy();
    }
  });
});
