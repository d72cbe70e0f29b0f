// The one-time-link pages in a real Chromium: opening one runs the page's
// script and loads its assets, and still sends nothing but GETs (no
// auto-submit), and the token goes into no request URL but the page's own.
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, launchBrowser, screenshot, watchPageErrors } from "./support.js";

const TOKEN = "Zm9yIGEgcGFnZSB0aGF0IG11c3Qgbm90IHNwZW5kIGl"; // well-formed (43 base64url characters), never issued

describe.skipIf(browserMissing)("one-time-link pages in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    srv = await startTestServer();
    base = `http://localhost:${srv.port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.destroy();
  });

  for (const { path, heading, button } of [
    { path: "/reset-password", heading: "Set a new password", button: "Set new password" },
    { path: "/verify-email", heading: "Verify your email address", button: "Verify email address" },
  ]) {
    it(`${path}: renders its button, sends only GETs, and the keyboard reaches the button`, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      const requests: Request[] = [];
      page.on("request", (r) => requests.push(r));

      const url = `${base}${path}?token=${TOKEN}`;
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
});
