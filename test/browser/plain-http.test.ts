// Issue 15 item 11: over plain http on a name that is not localhost (not a
// potentially trustworthy origin, so Chromium sends no Sec-Fetch-* headers),
// the no-JS Log out form must still log out. With the pages' old
// `Referrer-Policy: no-referrer` Chromium sent `Origin: null` and the
// cross-site check refused it (403), leaving the session alive.
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, uniqueEmail } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, launchBrowser } from "./support.js";

const PASSWORD = "correct horse battery";
const HOST = "auth.latchkey.test";

describe.skipIf(browserMissing)("plain http on a non-localhost name, in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    srv = await startTestServer();
    base = `http://${HOST}:${srv.port}`;
    browser = await launchBrowser([`--host-resolver-rules=MAP ${HOST} 127.0.0.1`]);
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.destroy();
  });

  const sessionCookie = async (context: BrowserContext) => (await context.cookies(base)).find((c) => c.name === "session");

  it("without JavaScript the Log out form logs out (the form POST carries the page's Origin, not null)", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const email = uniqueEmail("plainhttp");
    const api = client(srv.url);
    await api.post("/signup", { email, password: PASSWORD });
    expect((await api.post("/login", { email, password: PASSWORD })).status).toBe(200);
    await context.addCookies([{ name: "session", value: api.cookie!.split("=")[1]!, url: base, httpOnly: true, sameSite: "Lax" }]);

    const account = await page.goto(base + "/account");
    expect(account?.headers()["referrer-policy"]).toBe("same-origin");
    expect(await page.locator("#user-email").textContent()).toBe(email);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === base + "/logout" && r.request().method() === "POST"),
      page.locator("header").getByRole("button", { name: "Log out", exact: true }).click(),
    ]);
    const sent = await response.request().allHeaders();
    expect(sent["sec-fetch-site"]).toBeUndefined(); // the case under test: no Fetch Metadata over plain http
    expect(sent.origin).toBe(base);
    expect(response.status()).toBe(200);
    expect(await sessionCookie(context)).toBeUndefined();
    expect((await api.get("/me")).status).toBe(401); // ended on the server, not only in the jar
    await context.close();
  });
});
