// The one-time-link pages in a real Chromium: opening one runs the page's
// script and loads its assets, and still sends nothing but GETs (no
// auto-submit), and the token goes into no request URL but the page's own.
// Then the emailed verification link, used through its button.
import type { Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "../helpers/http.js";
import { lastLinkTo } from "../helpers/smtp.js";
import { browserMissing, screenshot, watchPageErrors, startMailingServer, type MailingServer } from "./support.js";

const TOKEN = "Zm9yIGEgcGFnZSB0aGF0IG11c3Qgbm90IHNwZW5kIGl"; // well-formed (43 base64url characters), never issued

describe.skipIf(browserMissing)("one-time-link pages in Chromium", () => {
  let m: MailingServer;
  beforeAll(async () => {
    m = await startMailingServer();
  });
  afterAll(() => m?.close());

  for (const { path, heading, button } of [
    { path: "/reset-password", heading: "Set a new password", button: "Set new password" },
    { path: "/verify-email", heading: "Verify your email address", button: "Verify email address" },
  ]) {
    it(`${path}: renders its button, sends only GETs, and the keyboard reaches the button`, async () => {
      const context = await m.browser.newContext();
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      const requests: Request[] = [];
      page.on("request", (r) => requests.push(r));

      const url = `${m.base}${path}?token=${TOKEN}`;
      const res = await page.goto(url, { waitUntil: "networkidle" });
      expect(res!.status()).toBe(200);
      await page.getByRole("heading", { name: heading }).waitFor();
      await screenshot(page, `link-page${path.replace("/", "-")}`);

      expect(requests.map((r) => r.method())).toEqual(requests.map(() => "GET"));
      expect(requests.map((r) => new URL(r.url()).pathname)).toEqual(expect.arrayContaining([path, "/assets/app.js", "/assets/app.css"]));
      expect(requests.filter((r) => r.url().includes(TOKEN)).map((r) => r.url())).toEqual([url]);
      expect(page.url()).toBe(url);

      // Tab from the top of the page reaches the button (past the skip link, the header and any field).
      const target = page.getByRole("button", { name: button });
      let reached = false;
      for (let i = 0; i < 10 && !reached; i++) {
        await page.keyboard.press("Tab");
        reached = await target.evaluate((el) => el === document.activeElement);
      }
      expect(reached).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it("the emailed verification link: opening it verifies nothing, its button does, once", async () => {
    const email = uniqueEmail("browser-verify");
    const PASSWORD = "correct horse battery";
    expect((await request(m.srv.url, "POST", "/signup", { body: { email, password: PASSWORD } })).status).toBe(201);
    await m.srv.latchkey.verification.settle();
    const link = lastLinkTo(m.smtp, email, "Confirm your email address");
    expect(link, "no verification mail").toBeDefined();
    const session = client(m.srv.url);
    expect((await session.post("/login", { email, password: PASSWORD })).status).toBe(200);
    const verified = async () => (await session.get("/me")).body.user.emailVerified;

    const context = await m.browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await page.goto(m.open(link!), { waitUntil: "networkidle" });
    const button = page.getByRole("button", { name: "Verify email address" });
    await button.waitFor();
    expect(await verified()).toBe(false); // the page is open, its script ran: nothing spent yet

    await button.press("Enter"); // the keyboard, like a person
    await page.getByRole("status").getByText("Email verified").waitFor();
    expect(await verified()).toBe(true);
    expect(await page.locator("#verify-email").count()).toBe(0);
    await screenshot(page, "link-page-verify-email-done");

    // The same link again: the page still opens, its button reports the spent link.
    await page.goto(m.open(link!));
    await page.getByRole("button", { name: "Verify email address" }).click();
    await page.locator("#verify-email-form-error").waitFor({ state: "visible" });
    expect(await page.locator("#verify-email-form-error").textContent()).toBe("Invalid or expired verification link");
    expect(errors).toEqual([]);
    await context.close();
  });
});
