// Latchkey mounted under /auth: everything it writes for a browser or a mail
// reader (page links, assets, the docs page's styles, redirects, the pages'
// API calls, the reset link, the OpenAPI server URL) carries the prefix, both
// inside a host Hono app (basePath option) and as the standalone server (BASE_PATH).
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { createLatchkey, createSqliteStore, startServer, type Latchkey, type RunningServer } from "../src/index.js";
import type { MailMessage } from "../src/mail.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { serveFetch, tempDir, testConfig } from "./helpers/server.js";

const dir = tempDir();
const mails: MailMessage[] = [];
let latchkey: Latchkey;
let server: Awaited<ReturnType<typeof serveFetch>>;
let url: string;

beforeAll(async () => {
  latchkey = createLatchkey({
    config: testConfig({ PUBLIC_URL: "http://app.example" }),
    store: createSqliteStore(`${dir.path}/base.db`),
    basePath: "/auth",
    // Collects what would be sent, so the link in it can be read.
    mailer: { send: async (m) => void mails.push(m) },
    backgroundTasks: false,
  });
  const app = new Hono();
  app.route("/auth", latchkey.app);
  server = await serveFetch(app.fetch);
  url = server.url;
});
afterAll(async () => {
  await server.close();
  await latchkey.store.close();
  dir.remove();
});

/** Every href/src/action of a page. */
const urls = (html: string) => [...html.matchAll(/\b(?:href|src|action)="([^"]*)"/g)].map((m) => m[1]!);

describe("mounted under /auth in a host app", () => {
  it("writes every page link, form action and asset under /auth, and the assets load from there", async () => {
    const c = client(url);
    const home = await c.get("/auth");
    expect(home.status).toBe(200);
    expect(home.text).toContain('<html data-base="/auth"');
    const links = urls(home.text).filter((u) => !u.startsWith("#"));
    expect(links.length).toBeGreaterThan(3);
    for (const link of links) expect(link, link).toMatch(/^\/auth(\/|$)/);
    for (const asset of links.filter((l) => l.startsWith("/auth/assets/"))) {
      expect((await c.get(asset)).status, asset).toBe(200);
    }
  });

  it("gives /auth/docs its styles and links under /auth", async () => {
    const docs = await request(url, "GET", "/auth/docs");
    expect(docs.status).toBe(200);
    const css = urls(docs.text).find((u) => u.includes("app.css"));
    expect(css).toMatch(/^\/auth\/assets\/app\.css\?v=/);
    expect((await request(url, "GET", css!)).headers.get("content-type")).toContain("text/css");
    expect(urls(docs.text)).toContain("/auth/openapi.json");
    const openapi = await request(url, "GET", "/auth/openapi.json");
    expect(openapi.body.servers).toEqual([{ url: "http://app.example/auth" }]);
  });

  it("redirects between the pages under /auth, and the cookie keeps Path=/ for the host app's routes", async () => {
    const c = client(url);
    expect((await c.get("/auth/account")).headers.get("location")).toBe("/auth");
    const email = uniqueEmail();
    await c.post("/auth/signup", { email, password: "password123" });
    const login = await c.post("/auth/login", { email, password: "password123" });
    expect(login.setCookie).toContain("Path=/;");
    expect((await c.get("/auth")).headers.get("location")).toBe("/auth/account");
    const account = await c.get("/auth/account");
    expect(account.status).toBe(200);
    for (const link of urls(account.text).filter((u) => !u.startsWith("#"))) expect(link, link).toMatch(/^\/auth(\/|$)/);
  });

  it("mails a reset link under /auth that the mounted app answers", async () => {
    const email = uniqueEmail();
    await request(url, "POST", "/auth/signup", { body: { email, password: "password123" } });
    expect((await request(url, "POST", "/auth/forgot-password", { body: { email } })).status).toBe(200);
    await latchkey.resets.settle();
    const link = /http:\/\/app\.example(\/\S*reset-password\?token=\S+)/.exec(mails.at(-1)!.text);
    expect(link?.[1]).toMatch(/^\/auth\/reset-password\?token=/);
    expect((await request(url, "GET", link![1]!)).status).toBe(200);
  });

  it("lets the pages' script call the API and navigate under the prefix", async () => {
    const js = (await request(url, "GET", "/auth/assets/app.js")).text;
    expect(js).toContain("fetch(BASE + path");
    expect(js).not.toMatch(/location\.(assign|replace)\("\//);
  });
});

describe("BASE_PATH on the standalone server", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({ config: testConfig({ BASE_PATH: "/auth", DATABASE_URL: `sqlite:${dir.path}/standalone.db` }) });
  });
  afterAll(() => running.close());

  it("serves the routes and pages under the prefix only", async () => {
    const c = client(running.url);
    expect((await c.get("/auth/me")).status).toBe(401);
    expect((await c.get("/me")).status).toBe(404);
    expect((await c.get("/auth")).text).toContain('href="/auth/docs"');
    const email = uniqueEmail();
    expect((await c.post("/auth/signup", { email, password: "password123" })).status).toBe(201);
    expect((await c.post("/auth/login", { email, password: "password123" })).status).toBe(200);
    expect((await c.get("/auth/me")).body.user.email).toBe(email);
  });
});

describe("the base path setting", () => {
  it("comes from BASE_PATH or the path of PUBLIC_URL", () => {
    expect(loadConfig({ BASE_PATH: "/auth/" }).basePath).toBe("/auth");
    expect(loadConfig({ PUBLIC_URL: "https://example.com/auth" }).basePath).toBe("/auth");
    expect(loadConfig({ PUBLIC_URL: "https://example.com/auth" }).publicUrl).toBe("https://example.com");
    expect(loadConfig({}).basePath).toBe("");
  });

  it("refuses a path that is not plain, or one that contradicts PUBLIC_URL", () => {
    expect(() => loadConfig({ BASE_PATH: "/a b" })).toThrow(/BASE_PATH must have a plain path like \/auth/);
    expect(() => loadConfig({ BASE_PATH: "/x/../y" })).toThrow(/BASE_PATH/);
    expect(() => loadConfig({ BASE_PATH: "/auth", PUBLIC_URL: "https://example.com/login" })).toThrow(/differs from the path of PUBLIC_URL/);
  });
});
