// The built-in pages served under /auth (BASE_PATH) in a real Chromium: the
// styles load, the forms' API calls and the redirects stay under the prefix.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueEmail } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, launchBrowser, watchPageErrors } from "./support.js";

const PASSWORD = "correct horse battery";

describe.skipIf(browserMissing)("pages under /auth in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    srv = await startTestServer({ env: { BASE_PATH: "/auth" } });
    base = `http://localhost:${srv.port}/auth`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.destroy();
  });

  it("signs up, logs in, shows the styled docs, and logs out, all under /auth", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const email = uniqueEmail("base");

    expect((await page.goto(base))!.status()).toBe(200);
    // The stylesheet came from /auth/assets and applies.
    expect(await page.evaluate(() => document.styleSheets[0]?.cssRules.length ?? 0)).toBeGreaterThan(0);

    const signup = page.locator("#signup");
    await signup.getByLabel("Email").fill(email);
    await signup.getByLabel("Password").fill(PASSWORD);
    await signup.getByRole("button", { name: "Sign up" }).click();
    await page.getByText(`Account created for ${email}`).waitFor();

    const login = page.locator("#login");
    await login.getByLabel("Password").fill(PASSWORD);
    await login.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${base}/account`);
    expect(await page.locator("#user-email").textContent()).toBe(email);
    expect((await context.cookies(base)).find((c) => c.name === "session")?.path).toBe("/");

    await page.goto(`${base}/docs`);
    expect(await page.evaluate(() => document.styleSheets[0]?.cssRules.length ?? 0)).toBeGreaterThan(0);

    await page.locator("header").getByRole("button", { name: "Log out", exact: true }).click();
    await page.waitForURL(base);
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
