// The seed's attack, for real: a signed-in victim's Chromium loads pages from
// an attacker's origin (another server on 127.0.0.2) that try to log the
// victim out, log them in as the attacker, change their password, and read
// /me. Each attempt is proven to reach the server (its access-log line), and
// afterwards the victim is still signed in and nothing changed on the server.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { escapeHtml } from "../../src/pages/html.js";
import { client, request, uniqueEmail } from "../helpers/http.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { browserMissing, capturingLogger, launchBrowser, screenshot, watchPageErrors, type AccessLogLine } from "./support.js";

const PASSWORD = "victim's own password";
const ATTACKER_PASSWORD = "attacker's password";

/** A form that auto-submits as soon as the attacker's page loads. */
function autoSubmit(action: string, fields: Record<string, string>, enctype = "application/x-www-form-urlencoded"): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  return `<form method="POST" action="${action}" enctype="${enctype}">${inputs}</form><script>document.forms[0].submit()</script>`;
}

/**
 * The classic trick for sending JSON from a plain HTML form: enctype text/plain
 * sends `name=value`, so a name ending in `"pad":"` and a value of `"}` make
 * the body `{...,"pad":"="}`: valid JSON, sent without any preflight.
 */
function autoSubmitJson(action: string, body: Record<string, string>): string {
  const json = JSON.stringify({ ...body, pad: "" });
  return autoSubmit(action, { [json.slice(0, -2)]: '"}' }, "text/plain");
}

interface Attack {
  name: string;
  page: string;
  /** The request it makes to the victim's server, and the answer it must get. */
  method: string;
  path: string;
  status: number;
}

describe.skipIf(browserMissing)("cross-site attacks from another origin, in Chromium", () => {
  let srv: TestServer;
  let log: AccessLogLine[];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let attacker: Server;
  let victimOrigin: string;
  let attackerOrigin: string;
  let victimCookie: string;
  const victimEmail = uniqueEmail("victim");
  const attackerEmail = uniqueEmail("attacker");
  const pages = new Map<string, string>();

  const attacks = (): Attack[] => [
    { name: '<img src=".../logout">', page: "/img", method: "GET", path: "/logout", status: 405 },
    { name: '<link rel=prefetch href=".../logout">', page: "/prefetch", method: "GET", path: "/logout", status: 405 },
    { name: "auto-submitting <form method=POST action=.../logout>", page: "/form-logout", method: "POST", path: "/logout", status: 403 },
    { name: "auto-submitting form logging the victim in as the attacker", page: "/form-login", method: "POST", path: "/login", status: 403 },
    { name: "the same login as JSON through enctype=text/plain", page: "/form-login-json", method: "POST", path: "/login", status: 403 },
    { name: "auto-submitting text/plain JSON form to /password", page: "/form-password", method: "POST", path: "/password", status: 403 },
    { name: "auto-submitting form to /signup", page: "/form-signup", method: "POST", path: "/signup", status: 403 },
  ];

  /** Everything the attacks could change on the server. */
  async function serverState() {
    const store = srv.latchkey.store;
    const victim = (await store.findUserByEmail(victimEmail))!;
    const attackerUser = (await store.findUserByEmail(attackerEmail))!;
    const sessions = await store.listUserSessions(victim.id);
    return {
      victimPasswordHash: victim.passwordHash,
      victimSessions: sessions.map((s) => ({ id: s.id, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt })),
      attackerSessions: (await store.listUserSessions(attackerUser.id)).length,
      users: (await store.listUsers({ limit: 1000 })).users.length,
    };
  }

  async function jarCookie() {
    return (await context.cookies(victimOrigin)).find((c) => c.name === "session")?.value;
  }

  beforeAll(async () => {
    const capture = capturingLogger();
    log = capture.lines;
    srv = await startTestServer({ logger: capture.logger });
    victimOrigin = `http://localhost:${srv.port}`;

    // The attacker's site: a different origin and a different site (127.0.0.2, not localhost).
    attacker = createServer((req, res) => {
      const body = pages.get(new URL(req.url ?? "/", "http://x").pathname);
      res.writeHead(body ? 200 : 404, { "content-type": "text/html; charset=utf-8" });
      res.end(body ? `<!doctype html><title>Win a prize</title><h1>Congratulations!</h1>${body}` : "");
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.2", resolve));
    attackerOrigin = `http://127.0.0.2:${(attacker.address() as AddressInfo).port}`;

    const v = victimOrigin;
    pages.set("/img", `<img src="${v}/logout" alt="">`);
    pages.set("/prefetch", `<link rel="prefetch" href="${v}/logout">`);
    pages.set("/form-logout", autoSubmit(`${v}/logout`, {}));
    pages.set("/form-login", autoSubmit(`${v}/login`, { email: attackerEmail, password: ATTACKER_PASSWORD }));
    pages.set("/form-login-json", autoSubmitJson(`${v}/login`, { email: attackerEmail, password: ATTACKER_PASSWORD }));
    pages.set("/form-password", autoSubmitJson(`${v}/password`, { currentPassword: PASSWORD, newPassword: "attacker-chosen-1" }));
    pages.set("/form-signup", autoSubmitJson(`${v}/signup`, { email: uniqueEmail("planted"), password: ATTACKER_PASSWORD }));
    pages.set("/frame", `<iframe src="${v}/account" title="victim"></iframe>`);
    pages.set("/blank", `<p>nothing to see</p>`);

    const api = client(srv.url);
    await api.post("/signup", { email: victimEmail, password: PASSWORD });
    await api.post("/signup", { email: attackerEmail, password: ATTACKER_PASSWORD });

    // The victim logs in through the pages, like a person would.
    browser = await launchBrowser();
    context = await browser.newContext();
    page = await context.newPage();
    await page.goto(victimOrigin + "/");
    await page.locator("#login").getByLabel("Email").fill(victimEmail);
    await page.locator("#login").getByLabel("Password").fill(PASSWORD);
    await page.locator("#login").getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(victimOrigin + "/account");
    victimCookie = (await jarCookie())!;
    expect(victimCookie).toBeTruthy();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await srv?.destroy();
  });

  it("the two origins are different sites", () => {
    expect(new URL(attackerOrigin).hostname).toBe("127.0.0.2");
    expect(new URL(victimOrigin).hostname).toBe("localhost");
  });

  it.each(attacks().map((a) => [a.name, a] as const))("%s: refused, victim still signed in, nothing changed", async (_name, attack) => {
    const before = await serverState();
    const seen = log.length;

    await page.goto(attackerOrigin + attack.page);
    // The request really reached the server, and got the answer that changes nothing.
    await expect
      .poll(() => log.slice(seen).find((l) => l.method === attack.method && l.path === attack.path), { timeout: 10_000 })
      .toBeTruthy();
    const hits = log.slice(seen).filter((l) => l.method === attack.method && l.path === attack.path);
    expect(hits.map((h) => h.status)).toEqual(hits.map(() => attack.status));
    expect(log.slice(seen).filter((l) => l.event === "logout" || l.event === "login.success" || l.event === "signup")).toEqual([]);
    await screenshot(page, `attack${attack.page.replace(/\//g, "-")}`);

    // The victim: same cookie in the jar, still signed in on their own site, nothing changed on the server.
    expect(await jarCookie()).toBe(victimCookie);
    await page.goto(victimOrigin + "/account");
    expect(page.url()).toBe(victimOrigin + "/account");
    expect(await page.locator("#user-email").textContent()).toBe(victimEmail);
    expect(await serverState()).toEqual(before);
  });

  it("a cross-origin fetch to /me from the attacker's page cannot read the answer", async () => {
    await page.goto(attackerOrigin + "/blank");
    const errors = watchPageErrors(page);
    const result = await page.evaluate(async (url) => {
      const attempts: Record<string, string> = {};
      try {
        const res = await fetch(url, { credentials: "include" });
        attempts.cors = `read ${res.status}: ${await res.text()}`;
      } catch (err) {
        attempts.cors = `blocked: ${(err as Error).name}`;
      }
      try {
        const opaque = await fetch(url, { credentials: "include", mode: "no-cors" });
        attempts.noCors = `${opaque.type} ${opaque.status} "${await opaque.text()}"`;
      } catch (err) {
        attempts.noCors = `blocked: ${(err as Error).name}`;
      }
      return attempts;
    }, victimOrigin + "/me");
    expect(result.cors).toBe("blocked: TypeError");
    // Even an opaque no-cors answer is withheld: Cross-Origin-Resource-Policy: same-origin.
    expect(result.noCors).toBe("blocked: TypeError");
    expect(errors.some((e) => /CORS policy/.test(e))).toBe(true); // Chromium says why

    // And the server grants no CORS to anyone: no Access-Control-Allow-* on the answer or a preflight.
    const direct = await request(srv.url, "GET", "/me", { cookie: `session=${victimCookie}`, headers: { origin: attackerOrigin } });
    expect(direct.status).toBe(200);
    expect([...direct.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
    const preflight = await request(srv.url, "OPTIONS", "/me", {
      headers: { origin: attackerOrigin, "access-control-request-method": "GET" },
    });
    expect([...preflight.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
  });

  it("the attacker cannot frame the victim's pages (clickjacking)", async () => {
    await page.goto(attackerOrigin + "/frame");
    await page.waitForLoadState("load");
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(frame).toBeDefined();
    // A refused frame is left on Chromium's error page: none of the victim's content renders.
    expect(await frame!.locator("#user-email").count()).toBe(0);
    expect(await frame!.locator("#login").count()).toBe(0);
  });

  it("the victim's own page still works: same-origin fetch with credentials, and the password is unchanged", async () => {
    await page.goto(victimOrigin + "/account");
    const me = await page.evaluate(async () => (await fetch("/me", { credentials: "same-origin" })).json());
    expect(me.user.email).toBe(victimEmail);
    expect((await client(srv.url).post("/login", { email: victimEmail, password: PASSWORD })).status).toBe(200);
  });
});
