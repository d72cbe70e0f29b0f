// Password reset by email over real HTTP and a real (in-process) SMTP server:
// the test reads the message the server received and follows its link.
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { client, request, uniqueEmail, type ApiResponse } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const MIN = 60_000;
const PUBLIC_URL = "http://auth.example.test";
const PASSWORD = "password123";
const NEW_PASSWORD = "a brand new passphrase";

interface Received {
  to: string;
  from: string;
  subject: string;
  text: string;
}

/** A real SMTP server on an ephemeral port that keeps what it receives. */
async function startSmtp() {
  const inbox: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          inbox.push({
            to: session.envelope.rcptTo.map((r) => r.address).join(","),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            subject: mail.subject ?? "",
            text: mail.text ?? "",
          });
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { inbox, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

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

async function newAccount(server = srv) {
  const email = uniqueEmail("reset");
  expect((await request(server.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  return email;
}

const forgot = (email: string, server = srv) => request(server.url, "POST", "/forgot-password", { body: { email } });
const reset = (token: string, newPassword = NEW_PASSWORD, server = srv) =>
  request(server.url, "POST", "/reset-password", { body: { token, newPassword } });
const login = (email: string, password: string) => request(srv.url, "POST", "/login", { body: { email, password } });

/** Asks for a link and returns the one that arrived by email. */
async function resetLinkFor(email: string): Promise<URL> {
  const res = await forgot(email);
  expect(res.status).toBe(200);
  await srv.latchkey.resets.settle();
  const mail = smtp.inbox.filter((m) => m.to === email).at(-1);
  expect(mail, `no reset email for ${email}`).toBeDefined();
  const link = /https?:\/\/\S+/.exec(mail!.text)?.[0];
  expect(link).toBeDefined();
  return new URL(link!);
}

const mailsTo = (email: string) => smtp.inbox.filter((m) => m.to === email);
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
      const entry = lines.map((l) => JSON.parse(l)).find((e) => e.event === "mail.development");
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
