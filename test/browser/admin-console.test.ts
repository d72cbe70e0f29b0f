// The admin console in Chromium: an admin finds a user by email prefix, opens
// their page, disables them (confirmed; their browser is signed out at once
// and their log-in says why), enables them, sends a reset link, revokes their
// sessions, deletes them; a non-admin gets 403; a form on another site cannot
// act through the admin's browser. UPDATE_SCREENSHOTS=1 copies the
// screenshots to docs/.
import { copyFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, uniqueEmail } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, launchBrowser, logInThroughPage, screenshot, watchPageErrors } from "./support.js";

const ADMIN_EMAIL = uniqueEmail("console-admin");
const ADMIN_PASSWORD = "console admin passphrase";
const PASSWORD = "member password 1";

const toDocs = (path: string, name: string) => {
  if (process.env.UPDATE_SCREENSHOTS === "1") copyFileSync(path, `docs/${name}`);
};

describe.skipIf(browserMissing)("the admin console, in Chromium", () => {
  let srv: TestServer;
  let browser: Browser;
  let base: string;
  let attacker: Server;
  const attackerPages = new Map<string, string>();

  beforeAll(async () => {
    srv = await startTestServer({ env: { EMAIL_VERIFICATION: "off", LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    base = `http://localhost:${srv.port}`;
    browser = await launchBrowser();
    attacker = createServer((req, res) => {
      const body = attackerPages.get(new URL(req.url ?? "/", "http://x").pathname);
      res.writeHead(body ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
      res.end(body ?? "");
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.2", resolve));
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.destroy();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  async function member(name: string) {
    const email = uniqueEmail(name);
    const res = await request(srv.url, "POST", "/signup", { body: { email, password: PASSWORD } });
    return { email, id: res.body.user.id as string };
  }

  async function signedIn(email: string, password: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    await logInThroughPage(page, base, email, password);
    return page;
  }

  it("finds, disables, enables, resets, revokes and deletes a user, every step through the pages", async () => {
    const { email, id } = await member("console-member");
    for (let i = 0; i < 3; i++) await member(`console-other-${i}`);
    const admin = await signedIn(ADMIN_EMAIL, ADMIN_PASSWORD);
    const errors = watchPageErrors(admin);
    const memberPage = await signedIn(email, PASSWORD);

    await admin.locator("header").getByRole("link", { name: "Admin" }).click();
    await admin.waitForURL(base + "/admin");
    expect(await admin.locator("#user-table tbody tr").count()).toBeGreaterThanOrEqual(5);
    // Invite someone from the list page: the account exists at once.
    const invitee = uniqueEmail("console-invitee");
    const invite = admin.locator("#invite");
    await invite.getByLabel("Email").fill(invitee);
    await invite.getByRole("button", { name: "Send invitation" }).click();
    await expect.poll(() => admin.locator("#page-status").textContent()).toBe(`Invitation sent to ${invitee}.`);
    expect((await srv.latchkey.store.findUserByEmail(invitee))?.role).toBe("user");

    await admin.getByLabel("Email starts with").fill(email.slice(0, 20));
    await admin.getByRole("button", { name: "Search" }).click();
    await admin.waitForURL(/\/admin\?email=/);
    expect(await admin.locator("#user-table tbody tr").allTextContents()).toEqual([expect.stringContaining(email)]);
    toDocs(await screenshot(admin, "30-admin-users"), "admin-users.png");

    await admin.getByRole("link", { name: email }).click();
    await admin.waitForURL(`${base}/admin/users/${id}`);
    expect(await admin.locator("#user-sessions li").count()).toBe(1);

    // Disable (the confirmation is accepted): the member is out at once, and their log-in says why.
    const disable = admin.locator("#disable");
    await disable.getByLabel("Reason").fill("Testing the console");
    await disable.getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => admin.locator("#user-status").textContent()).toContain("disabled");
    await memberPage.goto(base + "/account");
    expect(memberPage.url()).toBe(base + "/");
    await memberPage.locator("#login").getByLabel("Email").fill(email);
    await memberPage.locator("#login").getByLabel("Password").fill(PASSWORD);
    await memberPage.locator("#login").getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => memberPage.locator('#login [data-error-for=""]').textContent()).toBe("Account disabled");
    toDocs(await screenshot(admin, "31-admin-user-disabled"), "admin-user.png");

    await admin.getByRole("button", { name: "Enable the account" }).click();
    await expect.poll(() => admin.locator("#user-status").textContent()).toContain("enabled");
    await logInThroughPage(memberPage, base, email, PASSWORD);

    await admin.getByRole("button", { name: "Send a password reset link" }).click();
    await expect.poll(() => admin.locator("#page-status").textContent()).toContain(`A reset link is on its way to ${email}`);
    await admin.reload();
    await admin.getByRole("button", { name: "Revoke every session" }).click();
    await expect.poll(() => admin.locator("#user-sessions").count()).toBe(0);
    await memberPage.goto(base + "/account");
    expect(memberPage.url()).toBe(base + "/");

    await admin.getByRole("button", { name: "Delete the account" }).click();
    await admin.waitForURL(base + "/admin");
    expect(await srv.latchkey.store.findUserById(id)).toBeNull();
    expect(errors).toEqual([]);
  });

  it("asks an admin whose sign-in is old to confirm it is them, then does the action", async () => {
    const { id } = await member("console-stale");
    const admin = await signedIn(ADMIN_EMAIL, ADMIN_PASSWORD);
    srv.clock.advance(11 * 60_000);
    await admin.goto(`${base}/admin/users/${id}`);
    await admin.locator("#disable").getByLabel("Reason").fill("after a coffee break");
    await admin.locator("#disable").getByRole("button", { name: "Disable" }).click();
    const dialog = admin.locator("#reauth");
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByLabel("Password").fill(ADMIN_PASSWORD);
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => admin.locator("#user-status").textContent()).toContain("disabled");
  });

  it("signs in as a user with a banner the whole time, and Stop gives the admin their own session back", async () => {
    const { email, id } = await member("console-impersonated");
    const admin = await signedIn(ADMIN_EMAIL, ADMIN_PASSWORD);
    const errors = watchPageErrors(admin);
    await admin.goto(`${base}/admin/users/${id}`);
    await admin.getByRole("button", { name: "Sign in as this user" }).click();
    await admin.waitForURL(base + "/account");
    const banner = admin.locator(".impersonating");
    expect(await banner.textContent()).toContain(`You are signed in as ${email} by an administrator`);
    expect(await admin.locator("#user-email").textContent()).toBe(email);
    expect(await admin.locator("#activity li").first().textContent()).toMatch(/^\s*An administrator was signed in as you\s/);
    toDocs(await screenshot(admin, "32-admin-impersonating"), "admin-impersonating.png");
    await banner.getByRole("button", { name: "Stop" }).click();
    await admin.waitForURL(base + "/admin");
    expect(await admin.locator("header .who").textContent()).toBe(ADMIN_EMAIL);
    expect(errors).toEqual([]);
  });

  it("answers a non-admin 403, and a form on another site cannot act through the admin's browser", async () => {
    const { email, id } = await member("console-nosy");
    const nosy = await signedIn(email, PASSWORD);
    const res = await nosy.goto(base + "/admin");
    expect(res?.status()).toBe(403);
    expect(await nosy.locator("main").textContent()).toContain("This page is for administrators.");
    expect((await nosy.goto(`${base}/admin/users/${id}`))?.status()).toBe(403);

    // The admin, signed in, visits a page on another site that posts to the admin API.
    const admin = await signedIn(ADMIN_EMAIL, ADMIN_PASSWORD);
    const json = JSON.stringify({ reason: "csrf", pad: "" });
    attackerPages.set(
      "/prize",
      `<form method="POST" action="${base}/users/${id}/disable" enctype="text/plain"><input type="hidden" name='${json.slice(0, -2)}' value='"}'></form><script>document.forms[0].submit()</script>`,
    );
    const port = (attacker.address() as AddressInfo).port;
    const answer = admin.waitForResponse((r) => r.url() === `${base}/users/${id}/disable`);
    await admin.goto(`http://127.0.0.2:${port}/prize`);
    expect((await answer).status()).toBe(403);
    expect((await srv.latchkey.store.findUserById(id))?.disabledUntil).toBeNull();
  });
});
