// Security notices over real HTTP and real SMTP, on every engine: a changed
// password and a sign-in from a new device mail the owner a "this wasn't me"
// link that takes the account back; a known device, a first sign-in and the
// NOTIFY_* switches send nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startSmtp } from "./helpers/smtp.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PUBLIC_URL = "http://auth.example.test";
const PASSWORD = "password123";
const FIREFOX = { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" };
const PHONE = { "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1" };

let smtp: Awaited<ReturnType<typeof startSmtp>>;
beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(() => smtp?.close());

const mails = (to: string, subject: string) => smtp.inbox.filter((m) => m.to === to && m.subject === subject);

async function server(env: Record<string, string> = {}) {
  return startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, EMAIL_VERIFICATION: "off", ...env } });
}

async function settle(srv: TestServer) {
  await srv.latchkey.notices.settle();
  await srv.latchkey.resets.settle();
}

describe("security notices", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await server();
  });
  afterAll(() => srv.destroy());

  const signup = async (headers = FIREFOX) => {
    const email = uniqueEmail("notice");
    expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD }, headers })).status).toBe(201);
    return email;
  };
  const login = (email: string, headers: Record<string, string>, password = PASSWORD) => request(srv.url, "POST", "/login", { body: { email, password }, headers });

  it("a sign-in from a new device is announced, with a link that takes the account back; known devices are not", async () => {
    const email = await signup();
    expect((await login(email, FIREFOX)).status).toBe(200); // the signup's device
    expect((await login(email, FIREFOX)).status).toBe(200);
    await settle(srv);
    expect(mails(email, "New sign-in to your account")).toHaveLength(0);

    const phone = await login(email, PHONE);
    expect(phone.status).toBe(200);
    await settle(srv);
    const notice = mails(email, "New sign-in to your account");
    expect(notice).toHaveLength(1);
    expect(notice[0]!.text).toContain("Safari on iOS from 127.0.0.1");
    expect((await login(email, PHONE)).status).toBe(200); // now known
    await settle(srv);
    expect(mails(email, "New sign-in to your account")).toHaveLength(1);

    const token = new URL(/https?:\/\/\S+\/not-me\S*/.exec(notice[0]!.text)![0]).searchParams.get("token")!;
    expect((await request(srv.url, "POST", "/not-me", { body: { token } })).status).toBe(200);
    expect((await login(email, FIREFOX)).status).toBe(401); // the password was replaced
    await settle(srv);
    expect(mails(email, "Reset your password")).toHaveLength(1);
  });

  it("a changed password is announced; the first sign-in of an account is not a new device", async () => {
    const email = await signup({ "user-agent": "curl/8.5.0" });
    const browser = client(srv.url);
    expect((await browser.post("/login", { email, password: PASSWORD }, { headers: { "user-agent": "curl/8.5.0" } })).status).toBe(200);
    expect((await browser.post("/password", { currentPassword: PASSWORD, newPassword: "a new one 123" }, { headers: FIREFOX })).status).toBe(200);
    await settle(srv);
    const notice = mails(email, "Your password was changed");
    expect(notice).toHaveLength(1);
    expect(notice[0]!.text).toContain("Firefox on Linux");
    expect(notice[0]!.text).toMatch(/\/not-me\?token=[A-Za-z0-9_-]{43}/);
    expect(notice[0]!.text).not.toContain("a new one 123");

    const first = uniqueEmail("first");
    await request(srv.url, "POST", "/signup", { body: { email: first, password: PASSWORD } });
    expect((await login(first, PHONE)).status).toBe(200);
    await settle(srv);
    expect(mails(first, "New sign-in to your account")).toHaveLength(1); // the signup had another user agent (none)
  });
});

describe("NOTIFY_PASSWORD_CHANGED=false, NOTIFY_NEW_DEVICE=false, NOTIFY_EMAIL_CHANGED=false", () => {
  it("sends no notice; an email change still mails its confirmation link to the new address", async () => {
    const srv = await server({ NOTIFY_PASSWORD_CHANGED: "false", NOTIFY_NEW_DEVICE: "false", NOTIFY_EMAIL_CHANGED: "false" });
    try {
      const email = uniqueEmail("quiet");
      await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD }, headers: FIREFOX });
      const browser = client(srv.url);
      expect((await browser.post("/login", { email, password: PASSWORD }, { headers: PHONE })).status).toBe(200);
      expect((await browser.post("/password", { currentPassword: PASSWORD, newPassword: "a new one 123" })).status).toBe(200);
      const newEmail = uniqueEmail("quiet-new");
      expect((await browser.post("/email", { newEmail, currentPassword: "a new one 123" })).status).toBe(202);
      await settle(srv);
      await srv.latchkey.emailChanges.settle();
      expect(smtp.inbox.filter((m) => m.to === email)).toHaveLength(0);
      expect(mails(newEmail, "Confirm your new email address")).toHaveLength(1);
    } finally {
      await srv.destroy();
    }
  });
});
