// Forgot password in a real Chromium, from the log-in page to the new
// password: the link is read from the mail a real (loopback) SMTP server
// received, opened in the browser, and only the button on its page spends it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, uniqueEmail } from "../helpers/http.js";
import { lastLinkTo } from "../helpers/smtp.js";
import { browserMissing, logInThroughPage, screenshot, watchPageErrors, startMailingServer, type MailingServer } from "./support.js";

const OLD_PASSWORD = "correct horse battery";
const NEW_PASSWORD = "a new and better passphrase";

describe.skipIf(browserMissing)("password reset in Chromium", () => {
  let m: MailingServer;
  beforeAll(async () => {
    m = await startMailingServer();
  });
  afterAll(() => m?.close());

  it("Forgot password? → the emailed link → a new password; the old one stops working", async () => {
    const email = uniqueEmail("browser-reset");
    expect((await request(m.srv.url, "POST", "/signup", { body: { email, password: OLD_PASSWORD } })).status).toBe(201);
    const context = await m.browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);

    // The log-in form's link, reached with the keyboard like any other.
    await page.goto(m.base + "/");
    await page.locator("#login").getByRole("link", { name: "Forgot password?" }).click();
    await page.waitForURL(m.base + "/forgot-password");
    await screenshot(page, "reset-01-forgot");

    const forgot = page.locator("#forgot");
    await forgot.getByLabel("Email").fill(email);
    await forgot.getByRole("button", { name: "Send reset link" }).click();
    await page.getByRole("status").getByText("If an account exists for this email, a password reset link has been sent to it.").waitFor();
    await screenshot(page, "reset-02-sent");

    await m.srv.latchkey.resets.settle();
    const link = lastLinkTo(m.smtp, email);
    expect(link, "no reset email").toBeDefined();
    expect(link!.pathname).toBe("/reset-password");

    // Opening the link (the browser sends Accept: text/html) shows the page and spends nothing.
    const landing = await page.goto(m.open(link!));
    expect(landing!.status()).toBe(200);
    expect(landing!.headers()["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.url()).toBe(m.open(link!)); // no redirect, no auto-submit
    await page.getByRole("heading", { name: "Set a new password" }).waitFor();
    await screenshot(page, "reset-03-new-password-form");
    expect((await request(m.srv.url, "POST", "/login", { body: { email, password: OLD_PASSWORD } })).status).toBe(200);

    // A password the policy refuses: the API's issue next to the field; the link is not spent by it.
    const form = page.locator("#reset-password");
    const field = form.getByLabel("New password");
    expect(await field.getAttribute("autocomplete")).toBe("new-password");
    await field.fill("short");
    await field.press("Enter"); // the keyboard submits the form like the button
    await page.locator("#reset-password-newPassword-error").waitFor({ state: "visible" });
    expect(await field.getAttribute("aria-invalid")).toBe("true");

    await field.fill(NEW_PASSWORD);
    await form.getByRole("button", { name: "Set new password" }).click();
    await page.getByRole("status").getByText("Password has been reset.").waitFor();
    expect(await page.locator("#reset-password").count()).toBe(0); // the spent link's form is gone
    const logInLink = page.getByRole("link", { name: "Log in with your new password" });
    expect(await logInLink.isVisible()).toBe(true);
    expect(await logInLink.evaluate((a) => a === document.activeElement)).toBe(true); // focus moved to the next step
    await screenshot(page, "reset-04-done");

    // The old password no longer works; the new one does, through the log-in page.
    expect((await request(m.srv.url, "POST", "/login", { body: { email, password: OLD_PASSWORD } })).status).toBe(401);
    await logInLink.click();
    await page.waitForURL(m.base + "/");
    await logInThroughPage(page, m.base, email, NEW_PASSWORD);
    expect(await page.locator("#user-email").textContent()).toBe(email);

    // The same link again: the page still renders (a GET changes nothing), and its button says the link is spent.
    await page.goto(m.open(link!));
    await form.getByLabel("New password").fill("yet another passphrase");
    await form.getByRole("button", { name: "Set new password" }).click();
    await page.locator("#reset-password-form-error").waitFor({ state: "visible" });
    expect(await page.locator("#reset-password-form-error").textContent()).toBe("Invalid or expired token");
    expect(await form.getByLabel("New password").evaluate((el) => el === document.activeElement)).toBe(true);
    await screenshot(page, "reset-05-spent-link");

    expect(errors).toEqual([]);
    await context.close();
  });
});
