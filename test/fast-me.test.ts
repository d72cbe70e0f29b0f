// GET /me is answered by a lane on Node's request listener
// (src/http/node-listener.ts, app.ts nodeLanes) instead of Hono. Both write
// the one answer of routes/me.ts: these tests hold the two writers to the
// same bytes, check which requests the lane hands to Hono, and that a
// failing store is asked once.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { getRequestListener } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLatchkey } from "../src/latchkey.js";
import { nodeLanes } from "../src/app.js";
import { noMetrics } from "../src/metrics.js";
import { createNodeListener } from "../src/http/node-listener.js";
import { StoreUnavailableError } from "../src/store/store.js";
import { createLogger } from "../src/log.js";
import { createSqliteStore } from "../src/store/sqlite/index.js";
import { client, request, uniqueEmail, type ApiResponse } from "./helpers/http.js";
import { createTestClock, startTestServer, tempDir, testConfig, type TestServer } from "./helpers/server.js";

const DAY = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Headers that differ per response or per connection. */
const VARYING = new Set(["date", "x-request-id", "connection", "keep-alive"]);

/** Status, body and headers, without the ones that vary per response. */
function comparable(res: ApiResponse) {
  expect(res.headers.get("x-request-id")).toMatch(UUID);
  const headers = [...res.headers.entries()].filter(([name]) => !VARYING.has(name)).sort();
  return { status: res.status, text: res.text, headers };
}

/** The same request through the fast path (/me) and through Hono (the fast path leaves URLs with a query string alone). */
async function bothPaths(url: string, cookie?: string) {
  const fast = await request(url, "GET", "/me", { cookie });
  const hono = await request(url, "GET", "/me?via=hono", { cookie });
  return { fast: comparable(fast), hono: comparable(hono) };
}

describe.each([
  ["development", {}],
  ["production", { NODE_ENV: "production", PUBLIC_URL: "https://auth.example.com", JWT_SECRET: "x".repeat(43) }],
])("GET /me fast path (%s cookies and headers)", (_mode, env: Record<string, string>) => {
  let srv: TestServer;
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  beforeAll(async () => {
    srv = await startTestServer({ env, logger: createLogger("info", sink) });
  });
  afterAll(() => srv.destroy());

  const signIn = async () => {
    const c = client(srv.url);
    const email = uniqueEmail();
    await c.post("/signup", { email, password: "fast-path-password" });
    expect((await c.post("/login", { email, password: "fast-path-password" })).status).toBe(200);
    return c;
  };

  it("answers a live session exactly as the Hono route does", async () => {
    const c = await signIn();
    const { fast, hono } = await bothPaths(srv.url, c.cookie);
    expect(fast.status).toBe(200);
    expect(JSON.parse(fast.text).user.email).toMatch(/@example\.com$/);
    expect(fast).toEqual(hono);
    expect(fast.headers).toContainEqual(["content-length", String(Buffer.byteLength(fast.text))]);
    expect(fast.headers).toContainEqual(["cache-control", "no-store"]);
  });

  it("answers no cookie, a malformed cookie and an unknown token exactly as the Hono route does", async () => {
    const name = srv.latchkey.config.secureCookies ? "__Host-session" : "session";
    for (const cookie of [undefined, "other=1", `${name}=not-a-token`, `${name}=${"A".repeat(43)}`]) {
      const { fast, hono } = await bothPaths(srv.url, cookie);
      expect(fast.status).toBe(401);
      expect(fast).toEqual(hono);
      // A dead session cookie is cleared; no cookie at all is left alone.
      expect(fast.headers.some(([n]) => n === "set-cookie")).toBe(cookie?.startsWith(name) ?? false);
    }
  });

  // Issue 15 item 12: several session cookies or a cookie bomb answer 401 without clearing anything.
  it("answers several session cookies or an oversized Cookie header with a 401 that clears nothing, on both paths", async () => {
    const c = await signIn();
    const name = srv.latchkey.config.secureCookies ? "__Host-session" : "session";
    const planted = `${name}=${"A".repeat(43)}`;
    for (const cookie of [`${c.cookie}; ${planted}`, `${planted}; ${c.cookie}`, `${c.cookie}; pad=${"x".repeat(9000)}`]) {
      const { fast, hono } = await bothPaths(srv.url, cookie);
      expect(fast.status).toBe(401);
      expect(fast).toEqual(hono);
      expect(fast.headers.some(([n]) => n === "set-cookie")).toBe(false);
    }
    expect((await c.get("/me")).status).toBe(200); // the real session lives on
  });

  it("ends expired sessions on the fast path too", async () => {
    const c = await signIn();
    srv.clock.advance(8 * DAY); // past the 7-day idle timeout
    const { fast } = await bothPaths(srv.url, c.cookie);
    expect(fast.status).toBe(401);
    expect(fast.headers.find(([n]) => n === "set-cookie")?.[1]).toMatch(/Max-Age=0/);
  });

  it("renews an active session (sliding expiry) on the fast path", async () => {
    const c = await signIn();
    for (let i = 0; i < 3; i++) {
      srv.clock.advance(6 * DAY); // each request touches the session, so it never idles out
      expect((await request(srv.url, "GET", "/me", { cookie: c.cookie })).status).toBe(200);
    }
  });

  it("writes the same access-log line as the Hono route", async () => {
    const c = await signIn();
    logLines.length = 0;
    const fast = await request(srv.url, "GET", "/me", { cookie: c.cookie });
    await new Promise((r) => setTimeout(r, 20));
    const line = logLines.find((l) => l.requestId === fast.headers.get("x-request-id"));
    expect(line).toMatchObject({ method: "GET", path: "/me", status: 200 });
    expect(typeof line!.ms).toBe("number");
    expect(JSON.stringify(logLines)).not.toContain(c.cookie!.split("=")[1]!); // never the token
  });
});

describe("GET /me fast path hand-off", () => {
  const dir = tempDir();
  const store = createSqliteStore(`${dir.path}/latchkey.db`);
  const config = testConfig({ DATABASE_URL: `sqlite:${dir.path}/latchkey.db` });
  const latchkey = createLatchkey({ config, store, clock: createTestClock(), backgroundTasks: false });
  const hono = getRequestListener((req, env) => latchkey.fetch(req, env));
  let handedOff: string[] = [];
  const fastMe = createNodeListener(
    nodeLanes(latchkey),
    { logger: latchkey.logger, accessLog: false, hsts: false, metrics: noMetrics },
    (req, res) => {
      handedOff.push(`${req.method} ${req.url}`);
      hono(req, res);
    },
  );
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer(fastMe);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    dir.remove();
  });

  it("answers GET /me itself and hands every other request to Hono", async () => {
    handedOff = [];
    expect((await request(url, "GET", "/me")).status).toBe(401);
    expect(handedOff).toEqual([]);
    expect((await request(url, "GET", "/me?x=1")).status).toBe(401);
    expect((await request(url, "HEAD", "/me")).status).toBe(401);
    expect((await request(url, "POST", "/me")).status).toBe(405);
    expect((await request(url, "GET", "/me/")).status).toBe(404);
    expect((await request(url, "GET", "/healthz")).status).toBe(200);
    expect(handedOff).toEqual(["GET /me?x=1", "HEAD /me", "POST /me", "GET /me/", "GET /healthz"]);
  });

  const signedIn = async () => {
    const c = client(url);
    const email = uniqueEmail();
    await c.post("/signup", { email, password: "fast-path-password" });
    await c.post("/login", { email, password: "fast-path-password" });
    return c;
  };

  /** Runs `during` while store.findSession fails after `delayMs`; returns how often it was asked. */
  async function withFailingStore(error: Error, delayMs: number, during: () => Promise<void>): Promise<number> {
    const original = store.findSession;
    let lookups = 0;
    store.findSession = async () => {
      lookups++;
      await new Promise((r) => setTimeout(r, delayMs));
      throw error;
    };
    try {
      await during();
    } finally {
      store.findSession = original;
    }
    return lookups;
  }

  it("answers an unreachable store with one 503 after one lookup, without handing /me to Hono", async () => {
    const c = await signedIn();
    handedOff = [];
    let res!: ApiResponse;
    const lookups = await withFailingStore(new StoreUnavailableError("connection refused"), 200, async () => {
      res = await c.get("/me");
    });
    expect(lookups).toBe(1); // it used to be 2: the lane handed the request to Hono, which asked again
    expect(handedOff).toEqual([]);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.body).toEqual({ error: "Service unavailable" });
    expect((await c.get("/me")).status).toBe(200);
  });

  it("answers an unexpected store error with the same 500 as Hono's error mapping", async () => {
    const c = await signedIn();
    handedOff = [];
    const answers: ApiResponse[] = [];
    const lookups = await withFailingStore(new Error("disk on fire"), 0, async () => {
      answers.push(await c.get("/me"), await c.get("/me?via=hono"));
    });
    expect(lookups).toBe(2); // one per request
    expect(handedOff).toEqual(["GET /me?via=hono"]);
    for (const res of answers) {
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: "Internal server error", requestId: res.headers.get("x-request-id") });
    }
    const sameBytes = (res: ApiResponse) => ({ ...comparable(res), text: res.text.replace(res.headers.get("x-request-id")!, "<id>") });
    expect(sameBytes(answers[0]!)).toEqual(sameBytes(answers[1]!));
  });
});
