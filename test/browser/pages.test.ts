// The built-in pages in a real Chromium: the whole flow by clicking and
// typing, what the browser's cookie jar holds, the back button after logout.
import { copyFileSync, mkdirSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, uniqueEmail } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, capturingLogger, launchBrowser, screenshot, watchPageErrors, type AccessLogLine } from "./support.js";

const PASSWORD = "correct horse battery";

describe.skipIf(browserMissing)("built-in pages in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  /** The victim's origin: the server listens on 127.0.0.1, the browser calls it localhost like the seed's curl. */
  let base: string;
  let log: AccessLogLine[];

  beforeAll(async () => {
    const capture = capturingLogger();
    log = capture.lines;
    srv = await startTestServer({ logger: capture.logger });
    base = `http://localhost:${srv.port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.destroy();
  });

  async function sessionCookie(context: BrowserContext) {
    return (await context.cookies(base)).find((c) => c.name === "session");
  }

  it("signs up, logs in, stays signed in across a reload, logs out, and the back button shows no account page", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const email = uniqueEmail("flow");

    // The start page: forms, a strict CSP, never cached.
    const first = await page.goto(base + "/");
    expect(first!.status()).toBe(200);
    const headers = first!.headers();
    expect(headers["cache-control"]).toBe("no-store");
    expect(headers["content-security-policy"]).toContain("script-src 'self'");
    expect(headers["content-security-policy"]).not.toContain("unsafe-inline");
    await expect(page.getByRole("heading", { name: "Log in" }).isVisible()).resolves.toBe(true);
    await screenshot(page, "01-home");

    // Validation errors from the API's `issues` appear next to their fields.
    const signup = page.locator("#signup");
    await signup.getByLabel("Email").fill("   ");
    await signup.getByLabel("Password").fill("short");
    await signup.getByRole("button", { name: "Sign up" }).click();
    await page.locator("#signup-password-error").waitFor({ state: "visible" });
    expect(await page.locator("#signup-password-error").textContent()).toBe("Password must be at least 8 characters");
    expect(await page.locator("#signup-email-error").textContent()).toBe("Email is required");
    expect(await signup.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
    // The field is tied to its error for screen readers.
    expect(await signup.getByLabel("Password").getAttribute("aria-describedby")).toContain("signup-password-error");
    await screenshot(page, "02-signup-errors");

    // Sign up for real: a status message, the log-in form prefilled.
    await signup.getByLabel("Email").fill(email);
    await signup.getByLabel("Password").fill(PASSWORD);
    await signup.getByRole("button", { name: "Sign up" }).click();
    await page.getByText(`Account created for ${email}`).waitFor();
    expect(await srv.latchkey.store.findUserByEmail(email)).not.toBeNull();
    expect(await sessionCookie(context)).toBeUndefined(); // signing up starts no session

    // A wrong password: the API's error, shown in the form; still no cookie.
    const login = page.locator("#login");
    expect(await login.getByLabel("Email").inputValue()).toBe(email);
    await login.getByLabel("Password").fill("not the password");
    await login.getByRole("button", { name: "Log in" }).click();
    await page.locator("#login-form-error").waitFor({ state: "visible" });
    expect(await page.locator("#login-form-error").textContent()).toBe("Invalid email or password");
    expect(await sessionCookie(context)).toBeUndefined();

    // Log in with the keyboard only: the password field, type, Enter.
    await login.getByLabel("Password").fill("");
    await login.getByLabel("Password").focus();
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForURL(base + "/account");
    expect(await page.locator("#user-email").textContent()).toBe(email);
    // Recent activity: this sign-in (in this browser, from this address), the wrong password, the sign-up; found by its heading.
    const activity = page.getByRole("region", { name: "Recent activity" });
    expect(await activity.locator("li strong").allTextContents()).toEqual(["Signed in", "Failed sign-in attempt", "Account created"]);
    expect(await activity.locator("li .meta").first().textContent()).toMatch(/ · Chrome on Linux · 127\.0\.0\.1$/);
    await screenshot(page, "03-account");

    // The session cookie: in the jar with the expected attributes, invisible to scripts.
    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, secure: false, sameSite: "Lax", path: "/", domain: "localhost" });
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 86400); // Max-Age: the absolute lifetime
    expect(await page.evaluate(() => document.cookie)).toBe("");

    // A same-origin fetch with credentials works (the pages' own JS does exactly this).
    const me = await page.evaluate(async () => {
      const res = await fetch("/me", { credentials: "same-origin" });
      return { status: res.status, body: await res.json() };
    });
    expect(me).toMatchObject({ status: 200, body: { user: { email } } });

    // Reload: still signed in.
    await page.reload();
    expect(page.url()).toBe(base + "/account");
    expect(await page.locator("#user-email").textContent()).toBe(email);

    // The start page sends a signed-in visitor to the account page.
    await page.goto(base + "/");
    expect(page.url()).toBe(base + "/account");

    // Logout is reachable from every signed-in page, the reference included, and is a form POST.
    await page.goto(base + "/docs");
    expect(await page.locator('form[method="post"][action="/logout"] button').textContent()).toBe("Log out");
    await screenshot(page, "04-docs");
    await page.goto(base + "/account");
    expect(await page.locator('a[href="/logout"]').count()).toBe(0);

    // Log out by clicking: back at the start, cookie gone, session gone on the server.
    const token = cookie!.value;
    await page.locator("header").getByRole("button", { name: "Log out", exact: true }).click();
    await page.waitForURL(base + "/");
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(await sessionCookie(context)).toBeUndefined();
    expect((await client(srv.url).get("/me", { cookie: `session=${token}` })).status).toBe(401);

    // Reload: still signed out.
    await page.reload();
    expect(page.url()).toBe(base + "/");
    await page.getByRole("heading", { name: "Log in" }).waitFor();

    // Back: the browser asks the server again (no-store), which sends it to the start page.
    const seen = log.length;
    await page.goBack();
    await page.waitForLoadState("load");
    expect(page.url()).toBe(base + "/");
    expect(await page.locator("#user-email").count()).toBe(0);
    expect(await page.getByText(email).count()).toBe(0);
    expect(log.slice(seen)).toContainEqual(expect.objectContaining({ method: "GET", path: "/account", status: 303 }));
    await screenshot(page, "05-after-logout-back");

    expect(errors).toEqual([]); // no CSP violation, no script error, anywhere in the flow
    await context.close();
  });

  it("writes the README's account-page screenshot when UPDATE_SCREENSHOTS=1", async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const email = "ada@example.com";
    const api = client(srv.url);
    await api.post("/signup", { email, password: PASSWORD });
    // A second device, so a session list (when the server has one) shows more than this browser.
    const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
    await client(srv.url).post("/login", { email, password: PASSWORD }, { headers: { "user-agent": firefox } });
    await page.goto(base + "/");
    await page.locator("#login").getByLabel("Email").fill(email);
    await page.locator("#login").getByLabel("Password").fill(PASSWORD);
    await page.locator("#login").getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(base + "/account");
    await page.waitForLoadState("networkidle");
    const path = await screenshot(page, "account-page");
    if (process.env.UPDATE_SCREENSHOTS === "1") {
      mkdirSync("docs", { recursive: true });
      copyFileSync(path, "docs/account-page.png");
    }
    expect(await page.locator("#user-email").textContent()).toBe(email);
    await context.close();
  });

  it("without JavaScript the Log out form still POSTs and really logs out", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page: Page = await context.newPage();
    const email = uniqueEmail("nojs");
    const api = client(srv.url);
    await api.post("/signup", { email, password: PASSWORD });
    const login = await api.post("/login", { email, password: PASSWORD });
    expect(login.status).toBe(200);
    await context.addCookies([{ name: "session", value: api.cookie!.split("=")[1]!, url: base, httpOnly: true, sameSite: "Lax" }]);

    await page.goto(base + "/account");
    expect(await page.locator("#user-email").textContent()).toBe(email);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === base + "/logout" && r.request().method() === "POST"),
      page.locator("header").getByRole("button", { name: "Log out", exact: true }).click(),
    ]);
    expect(response.status()).toBe(200); // the JSON answer is shown; the session is over
    expect(await sessionCookie(context)).toBeUndefined();
    expect((await api.get("/me")).status).toBe(401);
    await context.close();
  });
});
