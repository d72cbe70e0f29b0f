// Every one-time link is scanner-safe: a mail scanner (Outlook Safe Links and
// the like), a link preview or a browser prefetch opens the emailed link with
// GET or HEAD, and the token must still work afterwards, exactly once. Real
// HTTP, real SMTP capture: the test follows the link that was really sent.
// One row per link kind (reset, verification, email change, invitation, "this wasn't me"); the
// wasn't me" links get a row each as they arrive.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { lastLinkTo, startSmtp, type SmtpCapture } from "./helpers/smtp.js";

const PUBLIC_URL = "http://auth.example.test";
const PASSWORD = "password123";

let smtp: SmtpCapture;
let srv: TestServer;
beforeAll(async () => {
  smtp = await startSmtp();
  srv = await startTestServer({ env: { SMTP_URL: smtp.url, PUBLIC_URL, LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD } });
});
afterAll(async () => {
  await srv?.destroy();
  await smtp?.close();
});

/** What scanners and prefetchers send. None of them may spend the token. */
const SCANNERS: { name: string; method: "GET" | "HEAD"; headers: Record<string, string> }[] = [
  { name: "a scanner fetching like a browser", method: "GET", headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8", "user-agent": "Mozilla/5.0 (compatible; SafeLinks)" } },
  { name: "a scanner fetching anything", method: "GET", headers: { accept: "*/*" } },
  { name: "a HEAD check", method: "HEAD", headers: { accept: "text/html" } },
  { name: "a Chromium prefetch", method: "GET", headers: { accept: "text/html", "sec-purpose": "prefetch", purpose: "prefetch" } },
  { name: "a prerender", method: "GET", headers: { accept: "text/html", "sec-purpose": "prefetch;prerender" } },
];

interface LinkKind {
  kind: string;
  /** Makes an account and gets a link of this kind emailed to it; returns the link and what the test needs later. */
  send(): Promise<{ link: URL; email: string }>;
  /** Uses the token the way the page's button does (POST JSON). */
  use(token: string, email: string): ReturnType<typeof request>;
  /** The use worked: its effect is visible. */
  expectEffect(email: string): Promise<void>;
  /** The answer to a second use of the same token. */
  refused: { status: number; body: unknown };
  /** The account has no password anyone knows yet (an invitation): no session to watch. */
  noSession?: true;
}

const NEW_PASSWORD = "scanner-safe new passphrase";
const ADMIN_EMAIL = uniqueEmail("scan-admin");
const ADMIN_PASSWORD = "scanner admin passphrase";

/** The new address each email-change row moved its account to. */
const moved = new Map<string, string>();

/** An account that asked (POST /email) to move to a new address; both mails have gone out. */
async function askForNewAddress(prefix: string) {
  const email = uniqueEmail(prefix);
  const newEmail = uniqueEmail(`${prefix}-new`);
  expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
  const session = client(srv.url);
  expect((await session.post("/login", { email, password: PASSWORD })).status).toBe(200);
  expect((await session.post("/email", { newEmail, currentPassword: PASSWORD })).status).toBe(202);
  await srv.latchkey.emailChanges.settle();
  return { email, newEmail };
}

const KINDS: LinkKind[] = [
  {
    kind: "password reset",
    async send() {
      const email = uniqueEmail("scan-reset");
      expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
      expect((await request(srv.url, "POST", "/forgot-password", { body: { email } })).status).toBe(200);
      await srv.latchkey.resets.settle();
      const link = lastLinkTo(smtp, email, "Reset your password"); // signup also mailed a verification link
      expect(link, `no reset email for ${email}`).toBeDefined();
      return { link: link!, email };
    },
    use: (token) => request(srv.url, "POST", "/reset-password", { body: { token, newPassword: NEW_PASSWORD } }),
    async expectEffect(email) {
      expect((await request(srv.url, "POST", "/login", { body: { email, password: NEW_PASSWORD } })).status).toBe(200);
      expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(401);
    },
    refused: { status: 400, body: { error: "Invalid or expired token" } },
  },
  {
    kind: "email verification",
    async send() {
      const email = uniqueEmail("scan-verify");
      // EMAIL_VERIFICATION=optional (the default): signup mails the link.
      expect((await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
      await srv.latchkey.verification.settle();
      const link = lastLinkTo(smtp, email, "Confirm your email address");
      expect(link, `no verification email for ${email}`).toBeDefined();
      return { link: link!, email };
    },
    use: (token) => request(srv.url, "POST", "/verify-email", { body: { token } }),
    async expectEffect(email) {
      const session = client(srv.url);
      expect((await session.post("/login", { email, password: PASSWORD })).status).toBe(200);
      expect((await session.get("/me")).body.user.emailVerified).toBe(true);
    },
    refused: { status: 400, body: { error: "Invalid or expired verification link" } },
  },
  {
    kind: "email-change confirmation",
    async send() {
      const { email, newEmail } = await askForNewAddress("scan-change");
      const link = lastLinkTo(smtp, newEmail, "Confirm your new email address");
      expect(link, `no confirmation email for ${newEmail}`).toBeDefined();
      moved.set(email, newEmail);
      return { link: link!, email };
    },
    use: (token) => request(srv.url, "POST", "/email/confirm", { body: { token } }),
    async expectEffect(email) {
      expect((await request(srv.url, "POST", "/login", { body: { email: moved.get(email), password: PASSWORD } })).status).toBe(200);
    },
    refused: { status: 400, body: { error: "Invalid or expired link" } },
  },
  {
    kind: "invitation",
    noSession: true,
    async send() {
      const email = uniqueEmail("scan-invite");
      const admin = client(srv.url);
      expect((await admin.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status).toBe(200);
      expect((await admin.post("/users/invite", { email })).status).toBe(201);
      await srv.latchkey.invitations.settle();
      const link = lastLinkTo(smtp, email, "You are invited");
      expect(link, `no invitation to ${email}`).toBeDefined();
      return { link: link!, email };
    },
    use: (token) => request(srv.url, "POST", "/reset-password", { body: { token, newPassword: NEW_PASSWORD } }),
    async expectEffect(email) {
      expect((await request(srv.url, "POST", "/login", { body: { email, password: NEW_PASSWORD } })).status).toBe(200);
    },
    refused: { status: 400, body: { error: "Invalid or expired token" } },
  },
  {
    kind: '"this wasn\'t me"',
    async send() {
      const { email } = await askForNewAddress("scan-notme");
      const link = lastLinkTo(smtp, email, "Your email address is about to change");
      expect(link, `no notice to ${email}`).toBeDefined();
      return { link: link!, email };
    },
    use: (token) => request(srv.url, "POST", "/not-me", { body: { token } }),
    async expectEffect(email) {
      expect((await request(srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(401); // the password was replaced
    },
    refused: { status: 400, body: { error: "Invalid or expired link" } },
  },
];

describe.each(KINDS)("a $kind link", (kind) => {
  it("survives GET, HEAD and prefetches of the emailed link, then works exactly once", async () => {
    const { link, email } = await kind.send();
    expect(link.origin).toBe(PUBLIC_URL);
    const token = link.searchParams.get("token")!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // A session opened before the scanners (spending a reset link would end it) is still there after them.
    const session = client(srv.url);
    if (!kind.noSession) expect((await session.post("/login", { email, password: PASSWORD })).status).toBe(200);

    for (const scanner of SCANNERS) {
      const res = await request(srv.url, scanner.method, link.pathname + link.search, { headers: scanner.headers });
      expect(res.status, scanner.name).toBe(200);
      expect(res.headers.get("cache-control"), scanner.name).toBe("no-store");
      if (scanner.method === "HEAD") expect(res.text, scanner.name).toBe("");
      // A browser-like request gets the page whose button carries the token; nothing else follows from it.
      if (scanner.method === "GET" && /text\/html/.test(scanner.headers.accept!)) {
        expect(res.text, scanner.name).toContain(`<input type="hidden" name="token" value="${token}">`);
      }
    }
    if (!kind.noSession) expect((await session.get("/me")).status, "the scanners ended no session").toBe(200);

    const first = await kind.use(token, email);
    expect(first.status, first.text).toBe(200);
    await kind.expectEffect(email);
    const second = await kind.use(token, email);
    expect({ status: second.status, body: second.body }).toEqual(kind.refused);
  });
});

