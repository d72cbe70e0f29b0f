// The account page's email forms in a real Chromium: a new verification
// link, then an email change from the form to the link mailed to the new
// address. Nothing changes until that link's button is pressed; then the
// account has the new (verified) address and its other sessions are over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "../helpers/http.js";
import { lastLinkTo } from "../helpers/smtp.js";
import { browserMissing, logInThroughPage, screenshot, startMailingServer, watchPageErrors, type MailingServer } from "./support.js";

const PASSWORD = "correct horse battery";

describe.skipIf(browserMissing)("changing the email address in Chromium", () => {
  let m: MailingServer;
  beforeAll(async () => {
    m = await startMailingServer();
  });
  afterAll(() => m?.close());

  it("resend a verification link, then change the address through the form and the mailed link", async () => {
    const email = uniqueEmail("browser-old");
    const newEmail = uniqueEmail("browser-new");
    expect((await request(m.srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
    const other = client(m.srv.url); // another device, signed in before the change
    expect((await other.post("/login", { email, password: PASSWORD })).status).toBe(200);

    const context = await m.browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await logInThroughPage(page, m.base, email, PASSWORD);
    const profile = page.locator("section", { has: page.getByRole("heading", { name: "Profile" }) });
    expect(await profile.getByText("not verified").isVisible()).toBe(true);

    // A new verification link, from the profile's button.
    await m.srv.latchkey.verification.settle();
    const verificationMails = () => m.smtp.inbox.filter((mail) => mail.to === email && mail.subject === "Confirm your email address").length;
    expect(verificationMails()).toBe(1); // the signup's
    await profile.getByRole("button", { name: "Send a new verification link" }).click();
    await page.getByRole("status").getByText("a new verification link has been sent").waitFor();
    await m.srv.latchkey.verification.settle();
    expect(verificationMails()).toBe(2);

    const form = page.locator("#email");
    // A wrong password: said next to the form, and the page stays (no sign-out redirect).
    await form.getByLabel("New email address").fill(newEmail);
    await form.getByLabel("Current password").fill("not the password");
    await form.getByRole("button", { name: "Send confirmation link" }).click();
    await page.locator("#email-form-error").waitFor({ state: "visible" });
    expect(await page.locator("#email-form-error").textContent()).toBe("Current password is incorrect");
    expect(page.url()).toBe(m.base + "/account");

    await form.getByLabel("Current password").fill(PASSWORD);
    await form.getByLabel("Current password").press("Enter");
    await page.getByRole("status").getByText("Check the new address for a link that confirms the change.").waitFor();
    expect(await form.getByLabel("New email address").inputValue()).toBe(""); // the form was reset
    await screenshot(page, "email-change-01-sent");
    await m.srv.latchkey.emailChanges.settle();

    // Nothing has changed yet; the old address got a notice with its own link.
    expect((await other.get("/me")).body.user.email).toBe(email);
    expect(lastLinkTo(m.smtp, email, "Your email address is about to change")?.pathname).toBe("/not-me");
    const link = lastLinkTo(m.smtp, newEmail, "Confirm your new email address");
    expect(link?.pathname).toBe("/confirm-email");

    await page.goto(m.open(link!));
    await page.getByRole("heading", { name: "Confirm your new email address" }).waitFor();
    expect((await other.get("/me")).body.user.email).toBe(email); // opening the link spent nothing
    await page.getByRole("button", { name: "Confirm new address" }).click();
    await page.getByRole("status").getByText("Email address changed").waitFor();
    await screenshot(page, "email-change-02-confirmed");

    // This browser is still signed in, now under the new, verified address; the other device is not.
    await page.goto(m.base + "/account");
    expect(await page.locator("#user-email").textContent()).toBe(newEmail);
    expect(await profile.getByText("verified", { exact: true }).isVisible()).toBe(true);
    expect(await profile.getByRole("button", { name: "Send a new verification link" }).count()).toBe(0);
    expect((await other.get("/me")).status).toBe(401);
    expect((await request(m.srv.url, "POST", "/login", { body: { email, password: PASSWORD } })).status).toBe(401);
    expect((await request(m.srv.url, "POST", "/login", { body: { email: newEmail, password: PASSWORD } })).status).toBe(200);
    expect(errors).toEqual([]);
    await context.close();
  });
});
