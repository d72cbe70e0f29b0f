// The built-in pages over plain HTTP: headers, caching, CSP, escaping,
// redirects, and PAGES_ENABLED=false. (The browser suite clicks through them.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declaredRoutes } from "../src/app.js";
import { ASSETS } from "../src/pages/assets.js";
import { PAGE_CSP } from "../src/pages/html.js";
import { client, request } from "./helpers/http.js";
import { startTestServer, testConfig, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.destroy());

async function signedIn(email: string) {
  const c = client(srv.url);
  await c.post("/signup", { email, password: "password123" });
  await c.post("/login", { email, password: "password123" });
  return c;
}

describe("pages", () => {
  it("/ is HTML with a strict CSP, never cached, with no inline script or style", async () => {
    const res = await request(srv.url, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(PAGE_CSP).toMatch(/default-src 'none'/);
    expect(PAGE_CSP).not.toMatch(/unsafe-|\*/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    // Same-origin form POSTs carry the page's Origin (no-referrer made it "null": issue 15 item 11); JSON keeps no-referrer.
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect((await request(srv.url, "GET", "/healthz")).headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(res.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/); // no inline style, no inline handlers
    // Every input has a label.
    const ids = [...res.text.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBe(6); // log in, sign up, and the second step (code, recovery code)
    for (const id of ids) expect(res.text).toContain(`<label for="${id}">`);
  });

  it("the assets are served as files: long cache, nosniff, the right types, hashed links", async () => {
    const page = (await request(srv.url, "GET", "/")).text;
    for (const [name, asset] of Object.entries(ASSETS)) {
      expect(page).toContain(asset.href);
      const res = await request(srv.url, "GET", asset.href);
      expect(res.status).toBe(200);
      expect(res.text).toBe(asset.body);
      expect(res.headers.get("content-type")).toBe(name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const missing = await request(srv.url, "GET", "/assets/secrets.js");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Not found" });
    expect((await request(srv.url, "GET", "/assets/..%2Fhtml.ts")).status).toBe(404);
  });

  it("/account without a session redirects to /; a dead session cookie is cleared on the way", async () => {
    const none = await request(srv.url, "GET", "/account");
    expect(none.status).toBe(303);
    expect(none.headers.get("location")).toBe("/");
    expect(none.setCookie).toBeNull();
    const dead = await request(srv.url, "GET", "/account", { cookie: `session=${"A".repeat(43)}` });
    expect(dead.status).toBe(303);
    expect(dead.setCookie).toBe("session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
  });

  it("/account shows the user, HTML-escaped, with a Log out form POST and no logout link", async () => {
    // Angle brackets and quotes cannot be in an address any more (one plain mailbox); & and ' still can.
    const email = `o'brien&co-${Date.now()}@example.com`;
    const c = await signedIn(email);
    const res = await c.get("/account");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.text).not.toContain("o'brien&co");
    expect(res.text).toContain("o&#39;brien&amp;co");
    expect(res.text).toMatch(/<form method="post" action="\/logout"[^>]*>\s*<button type="submit">Log out<\/button>/);
    expect(res.text).not.toMatch(/href="\/logout"/);
    // Signed in, / sends you to the account page.
    const home = await c.get("/");
    expect(home.status).toBe(303);
    expect(home.headers.get("location")).toBe("/account");
  });

  it("/account says whether the address is verified and offers a new link; with EMAIL_VERIFICATION=off it says neither", async () => {
    const page = (await (await signedIn(`unverified-${Date.now()}@example.com`)).get("/account")).text;
    expect(page).toContain("not verified");
    expect(page).toMatch(/<form id="resend" method="post" action="\/verify-email\/resend"[^>]*>\s*<input type="hidden" name="email" value="unverified-\d+@example.com">/);
    expect(page).toMatch(/<form id="email" method="post" action="\/email"/);

    const off = await startTestServer({ env: { EMAIL_VERIFICATION: "off" } });
    try {
      const c = client(off.url);
      await c.post("/signup", { email: "off@example.com", password: "password123" });
      await c.post("/login", { email: "off@example.com", password: "password123" });
      const text = (await c.get("/account")).text;
      expect(text).toContain('id="user-email"');
      expect(text).not.toContain("verified");
      expect(text).not.toContain('id="resend"');
    } finally {
      await off.destroy();
    }
  });

  it("/account lists recent activity in words, newest first: failures as one line, device and address", async () => {
    const email = "activity@example.com";
    const firefox = { "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" };
    await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } });
    for (let i = 0; i < 3; i++) await request(srv.url, "POST", "/login", { body: { email, password: "wrong one" }, headers: firefox });
    const c = client(srv.url);
    await c.post("/login", { email, password: "password123" }, { headers: firefox });
    await c.post("/password", { currentPassword: "password123", newPassword: "password456" });
    const page = await c.get("/account");
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('id="activity"'));
    const lines = [...section.matchAll(/<li><strong>([^<]+)<\/strong>\s*<p class="meta">(.*?)<\/p>/g)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, "")]);
    expect(lines.map(([text]) => text)).toEqual(["Password changed", "Signed in", "3 failed sign-in attempts", "Account created"]);
    expect(lines[1]![1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · Firefox on Linux · 127\.0\.0\.1$/);
    expect(lines[2]![1]).toContain("Firefox on Linux");
    expect(page.text).not.toContain("wrong one");
  });

  it("every form on the pages, and every call app.js makes, names a declared route", async () => {
    const c = await signedIn(`features-${Date.now()}@example.com`);
    const linkPage = (path: string) => request(srv.url, "GET", `${path}?token=${"A".repeat(43)}`, { headers: { accept: "text/html" } });
    const pages = [
      (await c.get("/account")).text,
      (await request(srv.url, "GET", "/")).text,
      (await request(srv.url, "GET", "/forgot-password")).text,
      (await linkPage("/reset-password")).text,
      (await linkPage("/verify-email")).text,
    ].join("");
    const script = ASSETS["app.js"]!.body.toString();
    const calls = [
      ...[...pages.matchAll(/data-api="(\w+) ([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`),
      ...[...script.matchAll(/api\("(\w+)", [`"]([^`"$]+)/g)].map((m) => `${m[1]} ${m[2]}`),
    ];
    const declared = declaredRoutes(srv.latchkey.app).map((d) => `${d.method.toUpperCase()} ${d.path.replace(/:\w+$/, "")}`);
    expect(calls).toEqual(expect.arrayContaining(["POST /logout-all", "POST /password", "GET /sessions", "DELETE /sessions/", "POST /forgot-password", "POST /reset-password", "POST /verify-email"]));
    for (const call of calls) expect(declared, call).toContain(call);
    expect(pages).toContain('id="sessions"');
  });

  /** The page headers and the no-inline rules every page keeps. */
  function expectStrictPage(res: Awaited<ReturnType<typeof request>>, what: string) {
    expect(res.status, what).toBe(200);
    expect(res.headers.get("content-type"), what).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control"), what).toBe("no-store");
    expect(res.headers.get("content-security-policy"), what).toBe(PAGE_CSP);
    // Cross-origin requests from the page carry no Referer, so a token in its URL goes nowhere else.
    expect(res.headers.get("referrer-policy"), what).toBe("same-origin");
    expect(res.text, what).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(res.text, what).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
    // Every visible input has a label (the token's hidden input needs none).
    const ids = [...res.text.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1]);
    for (const id of ids) expect(res.text, what).toContain(`<label for="${id}">`);
    return ids;
  }

  const TOKEN = "A".repeat(43);
  const html = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

  it("the log-in form links to the forgot-password page, which posts the email to POST /forgot-password", async () => {
    const home = await request(srv.url, "GET", "/");
    const login = home.text.slice(home.text.indexOf('id="login-title"'), home.text.indexOf('id="signup-title"'));
    expect(login).toContain('<a href="/forgot-password">Forgot password?</a>');
    const page = await request(srv.url, "GET", "/forgot-password");
    expect(expectStrictPage(page, "/forgot-password")).toEqual(["forgot-email"]);
    expect(page.text).toMatch(/<form id="forgot" [^>]*data-api="POST \/forgot-password"/);
  });

  it("a reset link opened by a browser is the new-password page: the token in a hidden input, a button, no auto-submit", async () => {
    const page = await request(srv.url, "GET", `/reset-password?token=${TOKEN}`, { headers: html });
    expect(expectStrictPage(page, "reset page")).toEqual(["reset-password-newPassword"]);
    expect(page.text).toMatch(/<form id="reset-password" [^>]*data-api="POST \/reset-password"/);
    expect(page.text).toContain(`<input type="hidden" name="token" value="${TOKEN}">`);
    expect(page.text).toContain('<button type="submit">Set new password</button>');
    // The token appears once: in the form, not in any link or action the page could follow.
    expect(page.text.split(TOKEN).length - 1).toBe(1);
    expect(page.text).not.toMatch(/<meta http-equiv="refresh"/i);
    expect(page.headers.get("vary")).toBe("Accept");
    // A client that asks for JSON (or anything: curl's */*) keeps the API's answer.
    for (const accept of ["application/json", "*/*"]) {
      const api = await request(srv.url, "GET", `/reset-password?token=${TOKEN}`, { headers: { accept } });
      expect(api.headers.get("content-type"), accept).toMatch(/^application\/json/);
      expect(api.body.message, accept).toContain("POST");
      expect(api.headers.get("vary"), accept).toBe("Accept");
    }
  });

  it("a verification link is the same kind of page, its button posting the token to POST /verify-email", async () => {
    const page = await request(srv.url, "GET", `/verify-email?token=${TOKEN}`, { headers: html });
    expect(expectStrictPage(page, "verify page")).toEqual([]);
    expect(page.text).toMatch(/<form id="verify-email" [^>]*data-api="POST \/verify-email"/);
    expect(page.text).toContain(`<input type="hidden" name="token" value="${TOKEN}">`);
    expect(page.text).toContain('<button type="submit">Verify email address</button>');
  });

  it("a missing, malformed or hostile token: the page explains, offers no button, echoes nothing, never a 500", async () => {
    const hostile = `"><script>alert(1)</script>`;
    for (const path of ["/reset-password", "/verify-email"]) {
      for (const query of ["", "?token=", `?token=${"A".repeat(42)}`, `?token=${encodeURIComponent(hostile)}`, "?token=a&token=b", "?token=%ZZ"]) {
        const res = await request(srv.url, "GET", path + query, { headers: html });
        expectStrictPage(res, path + query);
        expect(res.text, path + query).toMatch(/incomplete or malformed/);
        expect(res.text, path + query).not.toContain('type="hidden"');
        expect(res.text, path + query).not.toContain("<script>alert");
        expect(res.text, path + query).not.toContain("alert(1)");
      }
    }
  });

  it("API routes keep their JSON 404 and 405 next to the pages", async () => {
    const notFound = await request(srv.url, "GET", "/nope");
    expect(notFound.status).toBe(404);
    expect(notFound.body).toEqual({ error: "Not found" });
    const wrongMethod = await request(srv.url, "GET", "/logout");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(wrongMethod.body).toEqual({ error: "Method not allowed" });
    const postHome = await request(srv.url, "POST", "/", { body: {} });
    expect(postHome.status).toBe(405);
    expect(postHome.headers.get("content-type")).toMatch(/^application\/json/);
  });
});

describe("PAGES_ENABLED", () => {
  it("defaults to true and refuses a value that is not a boolean", () => {
    expect(testConfig().pagesEnabled).toBe(true);
    expect(testConfig({ PAGES_ENABLED: "off" }).pagesEnabled).toBe(false);
    expect(() => testConfig({ PAGES_ENABLED: "maybe" })).toThrow('PAGES_ENABLED must be true or false, got "maybe"');
  });

  it("false: an API-only server with no HTML at all; the API and /openapi.json work", async () => {
    const apiOnly = await startTestServer({ env: { PAGES_ENABLED: "false" } });
    try {
      for (const path of ["/", "/account", "/admin", "/admin/users/x", "/accept-invite?token=x", "/docs", ASSETS["app.js"]!.href]) {
        const res = await request(apiOnly.url, "GET", path);
        expect(res.status, path).toBe(404);
        expect(res.body, path).toEqual({ error: "Not found" });
      }
      expect((await request(apiOnly.url, "GET", "/openapi.json")).status).toBe(200);
      // The link pages' paths are POST-only API routes then: a browser gets the JSON 405.
      for (const path of ["/verify-email?token=x", "/forgot-password"]) {
        const res = await request(apiOnly.url, "GET", path, { headers: { accept: "text/html" } });
        expect(res.status, path).toBe(405);
        expect(res.body, path).toEqual({ error: "Method not allowed" });
      }
      // A browser opening a reset link gets the JSON explanation: no page to render.
      const reset = await request(apiOnly.url, "GET", "/reset-password?token=x", { headers: { accept: "text/html" } });
      expect(reset.headers.get("content-type")).toMatch(/^application\/json/);
      expect((await request(apiOnly.url, "POST", "/signup", { body: { email: "api@example.com", password: "password123" } })).status).toBe(201);
    } finally {
      await apiOnly.destroy();
    }
  });
});
