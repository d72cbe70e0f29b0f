// Two-factor authentication in Chromium, end to end, with codes computed
// here from the key the page shows (RFC 6238 on the server's clock): set it
// up on /account from the QR code's key, keep the recovery codes, sign out,
// sign in through the second step (a code, then a recovery code), be asked
// to re-authenticate for new recovery codes after REAUTH_MAX_AGE, turn it off.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base32Decode, totpAt } from "../../src/auth/totp.js";
import { request, uniqueEmail } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, launchBrowser, logInThroughPage, screenshot, watchPageErrors } from "./support.js";

const PASSWORD = "browser password 1";
const STEP = 30_000;

describe.skipIf(browserMissing)("two-factor authentication in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    srv = await startTestServer({ env: { EMAIL_VERIFICATION: "off" } });
    browser = await launchBrowser();
    base = `http://localhost:${srv.port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.destroy();
  });

  /** The code the app shows, one step later than the last (so none repeats). */
  const code = (secret: Buffer) => {
    srv.clock.advance(STEP);
    return totpAt(secret, srv.clock());
  };

  async function logOut(page: Page) {
    await page.locator("header").getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(base + "/");
  }

  /** Email and password on the start page; the second step appears instead of the account page. */
  async function firstStep(page: Page, email: string) {
    await page.goto(base + "/");
    const form = page.locator("#login");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Password").fill(PASSWORD);
    await form.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.locator("#mfa-step").isVisible()).toBe(true);
    expect(await page.locator("#login").isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("login-mfa-code");
  }

  it("sets up an authenticator app, signs in with a code and with a recovery code, re-authenticates, turns it off", async () => {
    const email = uniqueEmail("browser-mfa");
    await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    page.on("dialog", (dialog) => void dialog.accept()); // "Turn off two-factor authentication?"
    await logInThroughPage(page, base, email, PASSWORD);

    // Set up: the QR code (an inline SVG under the strict CSP) and the key to type.
    const mfa = page.locator("#mfa");
    await mfa.getByRole("button", { name: "Set up an authenticator app" }).click();
    await expect.poll(() => page.locator("#totp-qr svg").count()).toBe(1);
    const shownKey = (await page.locator("#totp-secret").textContent())!;
    expect(shownKey).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const secret = base32Decode(shownKey)!;
    const enrol = page.locator("#totp-enable");
    await enrol.getByLabel("Code from the app").fill("000000" === totpAt(secret, srv.clock()) ? "111111" : "000000");
    await enrol.getByRole("button", { name: "Turn on" }).click();
    await expect.poll(() => enrol.locator('[data-error-for="code"]').textContent()).toContain("Invalid code");
    await enrol.getByLabel("Code from the app").fill(code(secret));
    await enrol.getByRole("button", { name: "Turn on" }).click();

    // The recovery codes, once, to copy or download.
    await expect.poll(() => page.locator("#recovery-list li").count()).toBe(10);
    const recoveryCodes = await page.locator("#recovery-list li").allTextContents();
    expect(await page.locator("#page-status").textContent()).toContain("Two-factor authentication is on");
    expect(await page.locator("#totp-setup").isVisible()).toBe(false);
    expect(await page.locator("#mfa-state").textContent()).toContain("On:");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Download" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe("latchkey-recovery-codes.txt");
    await screenshot(page, "20-mfa-recovery-codes");

    // Signing in now takes two steps: a wrong code is shown, the right one lands on /account.
    await page.reload();
    expect(await mfa.textContent()).toContain("10 recovery codes left");
    await logOut(page);
    await firstStep(page, email);
    await screenshot(page, "21-mfa-second-step");
    const step = page.locator("#login-mfa");
    await step.getByLabel("Code").fill("12345x");
    await step.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => step.locator('[data-error-for=""]').textContent()).toBe("Invalid code");
    await step.getByLabel("Code").fill(code(secret));
    await step.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(base + "/account");

    // Lost phone: a recovery code instead.
    await logOut(page);
    await firstStep(page, email);
    await page.getByText("Lost your phone? Use a recovery code").click();
    const recovery = page.locator("#login-recovery");
    await recovery.getByLabel("Recovery code").fill(recoveryCodes[0]!);
    await recovery.getByRole("button", { name: "Use recovery code" }).click();
    await page.waitForURL(base + "/account");
    expect(await mfa.textContent()).toContain("9 recovery codes left");

    // Eleven minutes on, new recovery codes need the password and a code again; then they come.
    srv.clock.advance(11 * 60_000);
    await mfa.getByRole("button", { name: "Make new recovery codes" }).click();
    const dialog = page.locator("#reauth");
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByLabel("Password").fill(PASSWORD);
    await dialog.getByLabel("Code from the app").fill(code(secret));
    await screenshot(page, "22-mfa-reauth");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => page.locator("#recovery-list li").count()).toBe(10);
    const fresh = await page.locator("#recovery-list li").allTextContents();
    expect(fresh).not.toContain(recoveryCodes[1]);

    // Turning it off (confirmed) makes signing in one step again.
    await mfa.getByRole("button", { name: "Turn off" }).click();
    await expect.poll(() => mfa.textContent()).toContain("Set up an authenticator app");
    await logOut(page);
    await logInThroughPage(page, base, email, PASSWORD);
    expect(errors).toEqual([]);
    await context.close();
  });
});
