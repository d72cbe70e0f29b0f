// The admin console's pages over real HTTP: the user list pages through every
// account 50 at a time and searches by email prefix (bad queries are ignored,
// never a 500), a user's page carries every action, a non-admin gets the 403
// page and no session the log-in page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const ADMIN_EMAIL = uniqueEmail("pages-admin");
const ADMIN_PASSWORD = "admin passphrase 1";

let srv: TestServer;
let admin: ReturnType<typeof client>;
beforeAll(async () => {
  srv = await startTestServer({ env: { EMAIL_VERIFICATION: "off", LATCHKEY_ADMIN_EMAIL: ADMIN_EMAIL, LATCHKEY_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  admin = client(srv.url);
  await admin.post("/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
});
afterAll(() => srv?.destroy());

const listed = (text: string) => [...text.matchAll(/<a href="\/admin\/users\/([^"]+)">/g)].map((m) => m[1]);

describe("the admin console's pages", () => {
  it("page through every user 50 at a time, and search by email prefix", async () => {
    const prefix = `paged-${process.pid}-`;
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await request(srv.url, "POST", "/signup", { body: { email: `${prefix}${i}@example.com`, password: "password123" } })).body.user.id);
    const first = await admin.get(`/admin?email=${prefix}`);
    expect(first.status).toBe(200);
    expect(listed(first.text)).toHaveLength(50);
    const next = /<a href="\/admin\?([^"]+)" rel="next">/.exec(first.text)![1]!.replaceAll("&amp;", "&");
    const second = await admin.get(`/admin?${next}`);
    expect(listed(second.text)).toHaveLength(10);
    expect(second.text).not.toContain('rel="next"');
    expect([...listed(first.text), ...listed(second.text)].sort()).toEqual([...ids].sort());
    expect(listed((await admin.get(`/admin?email=${prefix}1`)).text)).toHaveLength(11); // 1, 10-19
    for (const query of ["email=%00", "email=" + "x".repeat(400), "cursor=", "limit=abc&cursor=" + "z".repeat(500)]) {
      expect((await admin.get(`/admin?${query}`)).status, query).toBe(200);
    }
  });

  it("show a user's page with every action, 404 for an unknown one, 403 to a non-admin and the log-in page without a session", async () => {
    const email = uniqueEmail("page-of");
    const id = (await request(srv.url, "POST", "/signup", { body: { email, password: "password123" } })).body.user.id;
    const page = await admin.get(`/admin/users/${id}`);
    expect(page.status).toBe(200);
    for (const action of [`PATCH /users/${id}"`, `POST /users/${id}/disable"`, `POST /users/${id}/impersonate"`, `POST /users/${id}/reset-link"`, `DELETE /users/${id}/sessions"`, `DELETE /users/${id}"`]) {
      expect(page.text).toContain(`data-api="${action}`);
    }
    expect([...page.text.matchAll(/data-confirm="/g)].length).toBeGreaterThanOrEqual(5);
    expect((await admin.get("/admin/users/nobody")).status).toBe(404);
    const member = client(srv.url);
    await member.post("/login", { email, password: "password123" });
    const forbidden = await member.get("/admin");
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("content-type")).toMatch(/^text\/html/);
    expect(forbidden.text).toContain("This page is for administrators.");
    const anonymous = await request(srv.url, "GET", `/admin/users/${id}`);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/");
  });
});
