// EMAIL_VERIFICATION over real HTTP and a real (loopback) SMTP server, on
// every engine (TEST_ENGINE): the link mailed at signup, single use and
// voided by a newer one; resending that answers the same for every address;
// and `required`, where signup answers a taken address like a new one and
// login waits for the proof, after the password only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail, type ApiResponse } from "./helpers/http.js";
import { startSmtp } from "./helpers/smtp.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PUBLIC_URL = "http://auth.example.test";
const PASSWORD = "password123";
const SUBJECT = "Confirm your email address";

let smtp: Awaited<ReturnType<typeof startSmtp>>;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp?.close());

const mails = (to: string, subject = SUBJECT) => smtp.inbox.filter((m) => m.to === to && m.subject === subject);

/** The token of the latest verification mail to this address (after the server's mails went out). */
async function linkToken(srv: TestServer, email: string): Promise<string> {
  await srv.latchkey.verification.settle();
  const mail = mails(email).at(-1);
  expect(mail, `no verification mail for ${email}`).toBeDefined();
  const link = new URL(/https?:\/\/\S+/.exec(mail!.text)![0]);
  expect(link.origin + link.pathname).toBe(`${PUBLIC_URL}/verify-email`);
  return link.searchParams.get("token")!;
}

const comparable = (res: ApiResponse) => ({
  status: res.status,
  text: res.text,
  headers: [...res.headers].filter(([k]) => k !== "date" && k !== "x-request-id"),
});

describe("EMAIL_VERIFICATION=optional (the default)", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL } });
  });
  afterAll(() => srv.destroy());
  const verify = (token: unknown) => request(srv.url, "POST", "/verify-email", { body: { token } });

  it("signs up as before (201, unverified), mails a link, and the link's POST proves the address once", async () => {
    const email = uniqueEmail("verify");
    const browser = client(srv.url);
    const signup = await browser.post("/signup", { email, password: PASSWORD });
    expect(signup.status).toBe(201);
    expect(signup.body.user.emailVerified).toBe(false);
    expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200); // nothing waits for it
    const token = await linkToken(srv, email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const done = await verify(token);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ message: "Email verified", user: { email, emailVerified: true } });
    expect((await browser.get("/me")).body.user.emailVerified).toBe(true);
    expect(await verify(token)).toMatchObject({ status: 400, body: { error: "Invalid or expired verification link" } });

    const activity = (await browser.get("/account/activity")).body.events.map((e: any) => e.type);
    expect(activity[0]).toBe("email.verified");
    expect(JSON.stringify((await browser.get("/account/activity")).body)).not.toContain(token);
  });

  it("a newer link voids the older one; expired and unknown links are refused", async () => {
    const email = uniqueEmail("again");
    expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
    const first = await linkToken(srv, email);
    expect((await request(srv.url, "POST", "/verify-email/resend", { body: { email } })).status).toBe(200);
    const second = await linkToken(srv, email);
    expect(second).not.toBe(first);
    expect((await verify(first)).status).toBe(400);

    srv.clock.advance(24 * 3_600_000 + 1); // EMAIL_VERIFICATION_TTL
    expect((await verify(second)).status).toBe(400);
    srv.clock.advance(-(24 * 3_600_000 + 1));
    expect((await verify("A".repeat(43))).status).toBe(400);
  });

  it("resending answers the same for an unverified, a verified and an unknown address, and mails only the first", async () => {
    const unverified = uniqueEmail("unverified");
    const verified = uniqueEmail("verified");
    for (const email of [unverified, verified]) await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    expect((await verify(await linkToken(srv, verified))).status).toBe(200);
    const before = { unverified: mails(unverified).length, verified: mails(verified).length };

    const answers = [];
    for (const email of [unverified, verified, uniqueEmail("nobody")]) {
      answers.push(comparable(await request(srv.url, "POST", "/verify-email/resend", { body: { email } })));
    }
    expect(answers[0]!.status).toBe(200);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    await srv.latchkey.verification.settle();
    expect(mails(unverified).length).toBe(before.unverified + 1);
    expect(mails(verified).length).toBe(before.verified);
  });

  it("limits resending per address (the forgot-password limit: 3 an hour) with 429 + Retry-After", async () => {
    const email = uniqueEmail("flood");
    await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    for (let i = 0; i < 3; i++) expect((await request(srv.url, "POST", "/verify-email/resend", { body: { email } })).status).toBe(200);
    const limited = await request(srv.url, "POST", "/verify-email/resend", { body: { email } });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toBe("Too many verification emails requested, try again later");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("limits resending per client, across addresses (FORGOT_PASSWORD_IP_LIMIT)", async () => {
    const limitedSrv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, FORGOT_PASSWORD_IP_LIMIT: "2" } });
    try {
      const resend = (name: string) => request(limitedSrv.url, "POST", "/verify-email/resend", { body: { email: uniqueEmail(name) } });
      expect((await resend("ip-a")).status).toBe(200);
      expect((await resend("ip-b")).status).toBe(200);
      const limited = await resend("ip-c");
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await limitedSrv.destroy();
    }
  });

  it("refuses malformed bodies with the documented 400, never a 500", async () => {
    for (const body of [{}, { token: 7 }, { token: "" }, { token: "x".repeat(600) }]) {
      const res = await request(srv.url, "POST", "/verify-email", { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toEqual(expect.any(String));
    }
    expect((await request(srv.url, "POST", "/verify-email/resend", { body: { email: 5 } })).status).toBe(400);
  });
});

describe("a graceful stop", () => {
  it("waits for the verification mail of a signup answered just before it", async () => {
    const srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL } });
    const email = uniqueEmail("stopping");
    try {
      expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
    } finally {
      await srv.destroy(); // no settle() first: the stop itself must wait for the mail
    }
    expect(mails(email)).toHaveLength(1);
  });
});

describe("EMAIL_VERIFICATION=required", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, EMAIL_VERIFICATION: "required" } });
  });
  afterAll(() => srv.destroy());

  it("answers a new and a taken address with the same bytes; the owner of the taken one is told, the new one gets a link", async () => {
    const taken = uniqueEmail("owner");
    const first = await request(srv.url, "POST", "/signup", { body: { email: taken, password: PASSWORD } });
    const again = await request(srv.url, "POST", "/signup", { body: { email: taken, password: "another password 1" } });
    const fresh = await request(srv.url, "POST", "/signup", { body: { email: uniqueEmail("fresh"), password: PASSWORD } });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ message: "Check your email: a link in it finishes signing up." });
    expect(comparable(again)).toEqual(comparable(first));
    expect(comparable(fresh)).toEqual(comparable(first));
    await srv.latchkey.verification.settle();
    expect(mails(taken)).toHaveLength(1); // the link from the first signup only
    const notice = mails(taken, "Someone tried to sign up with your address");
    expect(notice).toHaveLength(1);
    expect(notice[0]!.text).toContain(`${PUBLIC_URL}/forgot-password`);
    expect(notice[0]!.text).not.toContain("another password 1");
  });

  it("refuses login before the proof with 403, only after a right password, for cookies and bearer tokens alike", async () => {
    const email = uniqueEmail("wait");
    await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    const wrong = await request(srv.url, "POST", "/login", { body: { email, password: "not the password" } });
    expect(wrong.status).toBe(401);
    const early = await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } });
    expect(early).toMatchObject({ status: 403, body: { error: "Email not verified" }, setCookie: null });
    const bearer = await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } });
    expect(bearer).toMatchObject({ status: 403, body: { error: "Email not verified" } });
    expect(bearer.body.accessToken).toBeUndefined();

    expect((await request(srv.url, "POST", "/verify-email", { body: { token: await linkToken(srv, email) } })).status).toBe(200);
    const browser = client(srv.url);
    expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200);
    const types = (await browser.get("/account/activity")).body.events.map((e: any) => e.type);
    expect(types.slice(0, 4)).toEqual(["login.success", "email.verified", "login.unverified", "login.unverified"]);
  });

  it("an operator's accounts need no proof (latchkey users create, the bootstrap admin)", async () => {
    const email = uniqueEmail("operator");
    const user = await srv.latchkey.accounts.create({ email, password: PASSWORD, role: "user", verified: true }, { via: "cli" });
    expect("id" in user && user.emailVerifiedAt).toBeGreaterThan(0);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(200);
  });
});
