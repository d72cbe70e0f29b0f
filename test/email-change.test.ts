// Changing an account's address over real HTTP and real SMTP, on every engine
// (TEST_ENGINE): nothing changes until the new address confirms; then every
// other session and token ends; two accounts racing for one address end with
// one owner; and the old address's "this wasn't me" takes the account back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startSmtp } from "./helpers/smtp.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PUBLIC_URL = "http://auth.example.test";
const PASSWORD = "password123";
const CONFIRM = "Confirm your new email address";
const NOTICE = "Your email address is about to change";

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let srv: TestServer;
beforeAll(async () => {
  smtp = await startSmtp();
  srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, EMAIL_VERIFICATION: "off" } });
});
afterAll(async () => {
  await srv?.destroy();
  await smtp?.close();
});

const mails = (to: string, subject: string) => smtp.inbox.filter((m) => m.to === to && m.subject === subject);

/** The token of the latest mail of this subject to this address, once the server's mails went out. */
async function tokenFrom(to: string, subject: string, path: string): Promise<string> {
  await srv.latchkey.emailChanges.settle();
  const mail = mails(to, subject).at(-1);
  expect(mail, `no "${subject}" mail to ${to}`).toBeDefined();
  const link = new URL(/https?:\/\/\S+/.exec(mail!.text)![0]);
  expect(link.origin + link.pathname).toBe(PUBLIC_URL + path);
  return link.searchParams.get("token")!;
}

async function account(prefix = "mover") {
  const email = uniqueEmail(prefix);
  expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  const browser = client(srv.url);
  expect((await browser.post("/login", { email, password: PASSWORD })).status).toBe(200);
  return { email, browser };
}

describe("POST /email and its confirmation", () => {
  it("changes nothing until the new address confirms; then the address is proven and every other session and token ends", async () => {
    const { email, browser } = await account();
    const other = client(srv.url);
    await other.post("/login", { email, password: PASSWORD });
    const bearer = (await request(srv.url, "POST", "/token/login", { body: { email, password: PASSWORD } })).body;
    const newEmail = uniqueEmail("moved");

    const asked = await browser.post("/email", { newEmail, currentPassword: PASSWORD });
    expect(asked.status).toBe(202);
    const confirm = await tokenFrom(newEmail, CONFIRM, "/confirm-email");
    expect(await tokenFrom(email, NOTICE, "/not-me")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mails(email, NOTICE)[0]!.text).toContain(newEmail);
    // Each mail has an HTML part made from the same text: the same link, clickable, and the address escaped as text.
    const notice = mails(email, NOTICE)[0]!;
    const link = /https?:\/\/\S+/.exec(notice.text)![0];
    expect(notice.html).toContain(`<a href="${link}">${link}</a>`);
    expect(notice.html).toContain(newEmail);
    expect((await browser.get("/me")).body.user.email).toBe(email); // not yet

    const done = await browser.post("/email/confirm", { token: confirm });
    expect(done.status).toBe(200);
    expect(done.body.user).toMatchObject({ email: newEmail, emailVerified: true });
    expect((await browser.get("/me")).body.user.email).toBe(newEmail); // the confirming browser stays signed in
    expect((await other.get("/me")).status).toBe(401);
    expect((await request(srv.url, "POST", "/token/refresh", { body: { refreshToken: bearer.refreshToken } })).status).toBe(401);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(401);
    expect((await request(srv.url, "POST", "/login", { body: { email: newEmail, password: PASSWORD } })).status).toBe(200);
    expect((await browser.post("/email/confirm", { token: confirm })).status).toBe(400); // single use

    const types = (await browser.get("/account/activity")).body.events.map((e: any) => e.type);
    expect(types.slice(0, 3)).toEqual(["login.success", "email.changed", "email.change_requested"]);
    expect(JSON.stringify((await browser.get("/account/activity")).body)).not.toContain(confirm);
  });

  it("needs the current password and a different address; a taken address gets no link, and the answer is the same", async () => {
    const { email, browser } = await account();
    expect((await browser.post("/email", { newEmail: uniqueEmail(), currentPassword: "wrong" })).status).toBe(401);
    expect((await browser.post("/email", { newEmail: email, currentPassword: PASSWORD })).status).toBe(400);
    expect((await browser.post("/email", { newEmail: 5, currentPassword: PASSWORD })).status).toBe(400);
    expect((await request(srv.url, "POST", "/email", { body: { newEmail: uniqueEmail(), currentPassword: PASSWORD } })).status).toBe(401);

    const { email: taken } = await account("taken");
    const answer = await browser.post("/email", { newEmail: taken, currentPassword: PASSWORD });
    const free = await browser.post("/email", { newEmail: uniqueEmail("free"), currentPassword: PASSWORD });
    expect([answer.status, answer.text]).toEqual([free.status, free.text]);
    await srv.latchkey.emailChanges.settle();
    expect(mails(taken, CONFIRM)).toHaveLength(0);
  });

  it("two accounts confirming one address at once: exactly one gets it, the other 409, never both", async () => {
    const a = await account("racer-a");
    const b = await account("racer-b");
    const target = uniqueEmail("contested");
    await a.browser.post("/email", { newEmail: target, currentPassword: PASSWORD });
    const tokenA = await tokenFrom(target, CONFIRM, "/confirm-email");
    await b.browser.post("/email", { newEmail: target, currentPassword: PASSWORD });
    const tokenB = await tokenFrom(target, CONFIRM, "/confirm-email");
    expect(tokenB).not.toBe(tokenA); // two accounts' links: each voids only its own account's older one
    const results = await Promise.all([
      request(srv.url, "POST", "/email/confirm", { body: { token: tokenA } }),
      request(srv.url, "POST", "/email/confirm", { body: { token: tokenB } }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const owner = await srv.latchkey.store.findUserByEmail(target);
    const winner = results.find((r) => r.status === 200)!.body.user.id;
    expect(owner?.id).toBe(winner);
    expect(results.find((r) => r.status === 409)!.body.error).toBe("Email already registered");
  });
});

describe('"this wasn\'t me"', () => {
  it("takes the account back: the old address, every session ended, the password unknown, a reset link to the owner", async () => {
    const { email, browser } = await account("victim");
    const thief = client(srv.url);
    await thief.post("/login", { email, password: PASSWORD }); // someone who knows the password
    const theirs = uniqueEmail("thief");
    expect((await thief.post("/email", { newEmail: theirs, currentPassword: PASSWORD })).status).toBe(202);
    expect((await thief.post("/email/confirm", { token: await tokenFrom(theirs, CONFIRM, "/confirm-email") })).status).toBe(200);
    expect((await thief.get("/me")).body.user.email).toBe(theirs);

    const notMe = await tokenFrom(email, NOTICE, "/not-me");
    const res = await request(srv.url, "POST", "/not-me", { body: { token: notMe } });
    expect(res.status).toBe(200);
    expect((await thief.get("/me")).status).toBe(401);
    expect((await browser.get("/me")).status).toBe(401);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(401); // password replaced
    expect((await request(srv.url, "POST", "/login", { body: { email: theirs, password: PASSWORD } })).status).toBe(401);
    expect((await request(srv.url, "POST", "/not-me", { body: { token: notMe } })).status).toBe(400); // single use

    // The reset link went to the owner's address, and it works.
    await srv.latchkey.resets.settle();
    const reset = smtp.inbox.filter((m) => m.to === email && m.subject === "Reset your password").at(-1);
    expect(reset).toBeDefined();
    const token = new URL(/https?:\/\/\S+/.exec(reset!.text)![0]).searchParams.get("token")!;
    expect((await request(srv.url, "POST", "/reset-password", { body: { token, newPassword: "mine again 123" } })).status).toBe(200);
    const back = client(srv.url);
    expect((await back.post("/login", { email, password: "mine again 123" })).status).toBe(200);
    const types = (await back.get("/account/activity")).body.events.map((e: any) => e.type);
    expect(types).toContain("account.not_me");
  });

  it("refuses unknown and malformed tokens with 400, never a 500", async () => {
    for (const body of [{ token: "A".repeat(43) }, { token: "" }, {}, { token: ["x"] }]) {
      for (const path of ["/not-me", "/email/confirm"]) {
        const res = await request(srv.url, "POST", path, { body });
        expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      }
    }
  });
});
