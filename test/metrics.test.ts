// GET /metrics: off without METRICS_TOKEN, guarded by it, and counting what
// happened over real HTTP (both writers of GET /me, logins by outcome, rate
// limits), with route patterns as labels and no secret in the exposition.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const TOKEN = "m".repeat(40);
const scrape = async (srv: TestServer, authorization = `Bearer ${TOKEN}`) =>
  request(srv.url, "GET", "/metrics", { headers: { authorization } });
/** The value of one series in the exposition (0 when absent). */
const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe("without METRICS_TOKEN", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer();
  });
  afterAll(() => srv.destroy());

  it("has no /metrics", async () => {
    expect((await scrape(srv)).status).toBe(404);
  });
});

describe("with METRICS_TOKEN", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ env: { METRICS_TOKEN: TOKEN, LOGIN_EMAIL_LIMIT: "3" } });
  });
  afterAll(() => srv.destroy());

  it("answers 401 without the token or with another one, and never shows the token", async () => {
    for (const authorization of ["", "Bearer wrong", `Bearer ${TOKEN}x`, `Basic ${TOKEN}`]) {
      const res = await scrape(srv, authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(res.text).not.toContain(TOKEN);
    }
  });

  it("counts requests by route pattern and status on both GET /me writers, and logins by outcome", async () => {
    const before = (await scrape(srv)).text;
    const c = client(srv.url);
    const email = uniqueEmail("metrics");
    const password = "correct horse battery";
    expect((await c.post("/signup", { email, password })).status).toBe(201);
    expect((await c.post("/login", { email, password: "wrong password!" })).status).toBe(401);
    expect((await c.post("/login", { email, password })).status).toBe(200);
    expect((await c.get("/me")).status).toBe(200); // the Node lane
    expect((await c.get("/me?via=hono")).status).toBe(200); // Hono's route
    const sessionToken = c.cookie!.split("=")[1]!;
    const crossSite = { cookie: c.cookie!, headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" } };
    expect((await request(srv.url, "DELETE", `/sessions/${"x".repeat(20)}`, crossSite)).status).toBe(403); // refused by the guard, counted under its route
    expect((await request(srv.url, "GET", "/no-such-page-7f3a")).status).toBe(404);

    const res = await scrape(srv);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const after = res.text;
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('latchkey_http_requests_total{route="/me",method="GET",status="200"}')).toBe(2);
    expect(delta('latchkey_http_requests_total{route="/signup",method="POST",status="201"}')).toBe(1);
    expect(delta('latchkey_http_requests_total{route="/login",method="POST",status="401"}')).toBe(1);
    expect(delta('latchkey_http_requests_total{route="unmatched",method="GET",status="404"}')).toBe(1);
    expect(delta('latchkey_http_request_duration_seconds_count{route="/me",method="GET"}')).toBe(2);
    expect(delta('latchkey_http_request_duration_seconds_bucket{route="/me",method="GET",le="+Inf"}')).toBe(2);
    expect(delta('latchkey_logins_total{kind="cookie",outcome="success"}')).toBe(1);
    expect(delta('latchkey_logins_total{kind="cookie",outcome="failure"}')).toBe(1);
    expect(after).toContain("latchkey_argon2_queue_depth 0");
    expect(after).toContain("latchkey_process_resident_memory_bytes");
    // Route patterns, never raw paths; no secret of the requests above.
    expect(delta('latchkey_http_requests_total{route="/sessions/:id",method="DELETE",status="403"}')).toBe(1);
    for (const leaked of ["no-such-page-7f3a", "xxxxxxxxxxxxxxxxxxxx", "via=hono", email, password, sessionToken]) expect(after).not.toContain(leaked);
  });

  it("counts rate-limit refusals by limit, and bearer logins", async () => {
    const before = (await scrape(srv)).text;
    const email = uniqueEmail("limited");
    for (let i = 0; i < 3; i++) expect((await request(srv.url, "POST", "/token/login", { body: { email, password: "not the password" } })).status).toBe(401);
    expect((await request(srv.url, "POST", "/token/login", { body: { email, password: "not the password" } })).status).toBe(429);
    const after = (await scrape(srv)).text;
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('latchkey_rate_limited_total{limit="login"}')).toBe(1);
    expect(delta('latchkey_logins_total{kind="bearer",outcome="failure"}')).toBe(3);
    expect(delta('latchkey_logins_total{kind="bearer",outcome="rate_limited"}')).toBe(1);
  });
});

it("refuses a METRICS_TOKEN too short to be secret", () => {
  expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN must be at least 32 characters/);
});
