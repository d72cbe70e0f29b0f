// The cross-site check: Fetch Metadata first, Origin as the fallback, non-browser clients allowed.
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declaredRoutes } from "../src/app.js";
import { isApiRoute, routeGroup } from "../src/http/route.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ env: { TRUSTED_ORIGINS: "https://app.example.com" } });
});
afterAll(() => srv.destroy());

async function signedIn() {
  const c = client(srv.url);
  const email = uniqueEmail();
  await c.post("/signup", { email, password: "password123" });
  await c.post("/login", { email, password: "password123" });
  return { c, email };
}

const REFUSED = { error: "Cross-site request refused" };

describe("a cross-site POST", () => {
  it.each([
    ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
    ["Sec-Fetch-Site: same-site (not allowed by default)", { "sec-fetch-site": "same-site" }],
    ["a foreign Origin", { origin: "https://evil.example" }],
    ["Origin: null", { origin: "null" }],
    ["cross-site metadata with a trusted-looking Origin", { "sec-fetch-site": "cross-site", origin: "https://app.example.com" }],
  ])("to /logout with %s is refused and the session lives on", async (_name, headers) => {
    const { c } = await signedIn();
    const res = await c.post("/logout", undefined, { headers });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(REFUSED);
    expect(res.setCookie).toBeNull();
    expect((await c.get("/me")).status).toBe(200);
  });

  it("to /login is refused before any credential check, and sets no cookie", async () => {
    const { email } = await signedIn();
    const res = await request(srv.url, "POST", "/login", {
      body: { email, password: "password123" },
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(REFUSED);
    expect(res.setCookie).toBeNull();
  });

  it("to /signup is refused and creates no user", async () => {
    const email = uniqueEmail();
    const res = await request(srv.url, "POST", "/signup", {
      body: { email, password: "password123" },
      headers: { origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(await srv.latchkey.store.findUserByEmail(email)).toBeNull();
  });
});

describe("allowed requests", () => {
  it.each([
    ["no Origin and no Sec-Fetch-Site (curl)", {}],
    ["Sec-Fetch-Site: same-origin", { "sec-fetch-site": "same-origin" }],
    ["Sec-Fetch-Site: none (typed by the user)", { "sec-fetch-site": "none" }],
    ["a configured trusted Origin", { origin: "https://app.example.com" }],
  ])("%s may log out", async (_name, headers: Record<string, string>) => {
    const { c } = await signedIn();
    const res = await c.post("/logout", undefined, { headers });
    expect(res.status).toBe(200);
    expect((await c.get("/me")).status).toBe(401);
  });

  it("never applies to safe methods", async () => {
    const { c } = await signedIn();
    const res = await c.get("/me", { headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" } });
    expect(res.status).toBe(200);
  });
});

describe("with no configured origin", () => {
  it("accepts the Origin of the host the request was sent to, and no other", async () => {
    const plain = await startTestServer();
    try {
      const own = await request(plain.url, "POST", "/logout", { headers: { origin: plain.url } });
      expect(own.status).toBe(200);
      const other = await request(plain.url, "POST", "/logout", { headers: { origin: "http://127.0.0.1:1" } });
      expect(other.status).toBe(403);
    } finally {
      await plain.destroy();
    }
  });
});

describe("ALLOW_SAME_SITE", () => {
  it("lets same-site requests through when configured", async () => {
    const lenient = await startTestServer({ env: { ALLOW_SAME_SITE: "true" } });
    try {
      const res = await request(lenient.url, "POST", "/logout", { headers: { "sec-fetch-site": "same-site" } });
      expect(res.status).toBe(200);
      const cross = await request(lenient.url, "POST", "/logout", { headers: { "sec-fetch-site": "cross-site" } });
      expect(cross.status).toBe(403);
    } finally {
      await lenient.destroy();
    }
  });
});

// Issue 15 item 13: the bearer routes are exempt by route, not by a pattern over the path.
describe("the bearer exemption", () => {
  it.each([
    ["DELETE", "/users/token/sessions"],
    ["POST", "/users/token/login"],
    ["POST", "/anything/token/refresh"],
  ])("does not cover %s %s (a path that merely ends like a token route)", async (method, path) => {
    const res = await request(srv.url, method, path, { headers: { "sec-fetch-site": "cross-site" } });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(REFUSED);
  });

  it("still lets a cross-site POST /token/login through (it never reads cookies)", async () => {
    const { email } = await signedIn();
    const res = await request(srv.url, "POST", "/token/login", {
      body: { email, password: "password123" },
      headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
    });
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toEqual(expect.any(String));
    expect(res.setCookie).toBeNull();
  });

  it("follows the routes when the app is mounted under a prefix", async () => {
    const outer = new Hono();
    outer.route("/auth", srv.latchkey.app);
    const send = (method: string, path: string, body?: unknown) =>
      outer.fetch(
        new Request(`http://localhost${path}`, {
          method,
          headers: { "sec-fetch-site": "cross-site", "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    const refresh = await send("POST", "/auth/token/refresh", { refreshToken: "not-a-token" });
    expect(refresh.status).toBe(401); // reached the route: no cross-site 403
    const other = await send("DELETE", "/auth/users/token/sessions");
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual(REFUSED);
  });
});

// Issue 16 item 2: the exemption is part of the route's declaration, nothing else.
describe("the cross-site policy each route declares", () => {
  const nonSafe = () => declaredRoutes(srv.latchkey.app).filter(isApiRoute).filter((d) => d.method !== "get");

  it("exempts the bearer routes and no cookie route", () => {
    const exempt = nonSafe().filter((d) => d.crossSite === "exempt");
    expect(exempt.map((d) => `${d.method} ${d.path}`)).toEqual(["post /token/login", "post /token/login/mfa", "post /token/refresh", "post /token/logout"]);
    expect(exempt.every((d) => d.auth !== "cookie")).toBe(true);
  });

  it("is what a cross-site request meets: exempt routes answer it, every other non-safe route refuses it", async () => {
    const routes = nonSafe();
    expect(routes.length).toBeGreaterThan(10);
    for (const d of routes) {
      const res = await request(srv.url, d.method.toUpperCase(), d.path.replace(/:\w+/g, "x"), {
        body: {},
        headers: { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      });
      const where = `${d.method} ${d.path} -> ${res.status}`;
      if (d.crossSite === "exempt") expect(res.status, where).toBe(400); // reached the route: its body validation answers
      else expect(res.body, where).toEqual(REFUSED);
    }
  });

  it("cannot exempt a cookie route", () => {
    const r = routeGroup();
    const cookieExempt = { path: "/x", tag: "T", summary: "x", responses: {}, auth: "cookie", crossSite: "exempt" } as const;
    // @ts-expect-error -- the type refuses it too
    expect(() => r.post(cookieExempt, () => new Response())).toThrow("a cookie route cannot be exempt");
  });
});
