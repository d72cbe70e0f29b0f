// Issue 15 item 12, the other side: a header with several session cookies is
// "ambiguous" for authentication (no session, nothing cleared), but logout
// and login's session-fixation step must still end the sessions the browser
// presented. Otherwise a cookie a sibling subdomain planted next to ours makes
// "Log out" leave the real session alive on the server.
// Development cookie names (plain `session`: the case a sibling can shadow).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const PASSWORD = "correct horse battery";
let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.destroy());

async function signIn() {
  const c = client(srv.url);
  const email = uniqueEmail("ambiguous");
  await c.post("/signup", { email, password: PASSWORD });
  expect((await c.post("/login", { email, password: PASSWORD })).status).toBe(200);
  return { c, email, cookie: c.cookie! };
}

/** A well-formed session token that names no session (what a sibling subdomain can plant). */
const planted = `session=${"A".repeat(43)}`;

describe("several session cookies in one header", () => {
  it.each([
    ["before", (real: string) => `${planted}; ${real}`],
    ["after", (real: string) => `${real}; ${planted}`],
  ])("logout ends the real session on the server when a planted cookie comes %s it", async (_where, header) => {
    const { cookie } = await signIn();
    const res = await request(srv.url, "POST", "/logout", { cookie: header(cookie) });
    expect(res.status).toBe(200);
    expect((await request(srv.url, "GET", "/me", { cookie })).status).toBe(401); // gone server-side, not only in the jar
  });

  it("login ends the session the browser arrived with, even next to a planted cookie", async () => {
    const first = await signIn();
    const res = await request(srv.url, "POST", "/login", {
      body: { email: first.email, password: PASSWORD },
      cookie: `${first.cookie}; ${planted}`,
    });
    expect(res.status).toBe(200);
    expect((await request(srv.url, "GET", "/me", { cookie: first.cookie })).status).toBe(401);
  });
});
