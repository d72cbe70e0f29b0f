// Invitations over real HTTP and real SMTP, on every engine (TEST_ENGINE): an
// admin invites an address, the account exists (verified) with a password
// nobody knows, the mailed link's page lets the invitee choose one (its GET
// spends nothing), once and before INVITE_TTL; SIGNUP=invite closes sign-up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { lastLinkTo, startSmtp, type SmtpCapture } from "./helpers/smtp.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const ADMIN_EMAIL = uniqueEmail("inviting-admin");
const ADMIN_PASSWORD = "admin passphrase 1";
const PUBLIC_URL = "http://auth.example.test";
const DAY = 86_400_000;

let smtp: SmtpCapture;
let srv: TestServer;
let admin: ReturnType<typeof client>;
beforeAll(async () => {
  smtp = await startSmtp();
  srv = await startTestServer({
    env: { SIGNUP: "invite", EMAIL_VERIFICATION: "required", SMTP_URL: smtp.url, PUBLIC_URL, LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  admin = client(srv.url);
  expect((await admin.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200);
});
afterAll(async () => {
  await srv?.destroy();
  await smtp?.close();
});

async function invite(email: string, role?: "user" | "admin") {
  const res = await admin.post("/users/invite", role ? { email, role } : { email });
  await srv.latchkey.invitations.settle();
  return res;
}

describe("invitations", () => {
  it("create a verified account and mail a link whose page sets the password; the invitee can then sign in", async () => {
    const email = uniqueEmail("invitee");
    const res = await invite(email.toUpperCase());
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email, role: "user", emailVerified: true, lastLoginAt: null });
    const link = lastLinkTo(smtp, email, "You are invited")!;
    expect(link.origin + link.pathname).toBe(`${PUBLIC_URL}/accept-invite`);
    const token = link.searchParams.get("token")!;

    // The page (and a scanner's GET or HEAD) spends nothing; it POSTs the token with the chosen password.
    for (const method of ["GET", "HEAD"]) expect((await request(srv.url, method, link.pathname + link.search, { headers: { accept: "text/html" } })).status).toBe(200);
    const page = await request(srv.url, "GET", link.pathname + link.search, { headers: { accept: "text/html" } });
    expect(page.text).toContain('data-api="POST /reset-password"');
    expect(page.text).toContain(`name="token" value="${token}"`);
    expect((await request(srv.url, "POST", "/login", { body: { email, password: "anything at all" } })).status).toBe(401);

    expect((await request(srv.url, "POST", "/reset-password", { body: { token, newPassword: "invited password 1" } })).status).toBe(200);
    const login = await request(srv.url, "POST", "/login", { body: { email, password: "invited password 1" } });
    expect(login.status).toBe(200); // verified: EMAIL_VERIFICATION=required lets it in
    expect((await request(srv.url, "POST", "/reset-password", { body: { token, newPassword: "second try 1" } })).status).toBe(400); // once

    const { events } = await srv.latchkey.store.events.list({ userId: res.body.user.id, limit: 10 });
    expect(events.find((e) => e.type === "account.invited")).toMatchObject({ actorId: expect.any(String), details: { role: "user" } });
    expect(events.find((e) => e.type === "signup")).toMatchObject({ details: { via: "invite" } });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("invite admins too; a link expires after INVITE_TTL; a taken address is 409", async () => {
    const email = uniqueEmail("late");
    expect((await invite(email, "admin")).body.user.role).toBe("admin");
    const token = lastLinkTo(smtp, email, "You are invited")!.searchParams.get("token")!;
    srv.clock.advance(7 * DAY);
    expect((await request(srv.url, "POST", "/reset-password", { body: { token, newPassword: "too late 12" } })).status).toBe(400);
    expect((await admin.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200); // a week later the admin's session has ended
    expect((await invite(email)).body).toEqual({ error: "Email already registered" });
  });

  it("SIGNUP=invite refuses every sign-up alike, and the start page says accounts are by invitation", async () => {
    const fresh = await request(srv.url, "POST", "/signup", { body: { email: uniqueEmail("walk-in"), password: "password123" } });
    const taken = await request(srv.url, "POST", "/signup", { body: { email: ADMIN_EMAIL, password: "password123" } });
    const junk = await request(srv.url, "POST", "/signup", { body: { nonsense: true } });
    for (const res of [fresh, taken, junk]) {
      expect(res.status).toBe(403);
      expect(res.text).toBe(fresh.text);
    }
    expect(fresh.body).toEqual({ error: "Sign-up is by invitation only" });
    const home = await request(srv.url, "GET", "/");
    expect(home.text).toContain("Accounts are by invitation");
    expect(home.text).not.toContain('id="signup"');
  });

  it("refuses bad input with the documented 400 and non-admins with 403", async () => {
    for (const body of [{}, { email: 5 }, { email: "a@b.c, d@e.f" }, { email: uniqueEmail("r"), role: "owner" }]) {
      const res = await admin.post("/users/invite", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.issues).toEqual(expect.any(Array));
    }
    const email = uniqueEmail("member");
    await invite(email);
    const token = lastLinkTo(smtp, email, "You are invited")!.searchParams.get("token")!;
    await request(srv.url, "POST", "/reset-password", { body: { token, newPassword: "member password 1" } });
    const member = client(srv.url);
    await member.post("/login", { email, password: "member password 1" });
    expect((await member.post("/users/invite", { email: uniqueEmail("x") })).status).toBe(403);
    expect((await request(srv.url, "POST", "/users/invite", { body: { email: uniqueEmail("y") } })).status).toBe(401);
  });
});
