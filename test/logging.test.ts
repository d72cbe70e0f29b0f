// Logs are structured, carry request ids and events, and never a password, token or hash.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { client, request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    done();
  },
});

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ logger: createLogger("debug", sink) });
});
afterAll(() => srv.destroy());

describe("logs", () => {
  it("record the flow without any secret", async () => {
    const email = uniqueEmail();
    const password = "hunter2-but-longer";
    const c = client(srv.url);
    await c.post("/signup", { email, password });
    await c.post("/login", { email, password: "wrong-password-1" });
    const login = await c.post("/login", { email, password });
    const token = c.cookie!.split("=")[1]!;
    await c.get("/me");
    await c.post("/logout");

    const entries = lines.map((l) => JSON.parse(l));
    const events = entries.map((e) => e.event).filter(Boolean);
    expect(events).toEqual(expect.arrayContaining(["signup", "login.failure", "login.success", "logout"]));
    const access = entries.find((e) => e.path === "/me");
    expect(access).toMatchObject({ method: "GET", status: 200, requestId: expect.any(String), ms: expect.any(Number) });

    const all = lines.join("\n");
    const { createHash } = await import("node:crypto");
    const user = await srv.latchkey.store.findUserById(login.body.user.id);
    for (const secret of [password, "wrong-password-1", token, createHash("sha256").update(token).digest("hex"), user!.passwordHash]) {
      expect(all).not.toContain(secret);
    }
  });

  it("answer an unexpected failure with 500, a request id, and no details", async () => {
    const broken = await startTestServer({ logger: createLogger("error", sink) });
    try {
      const db = (broken.latchkey.store as unknown as { db: { close(): void } }).db;
      db.close(); // the database goes away under the running server
      const res = await request(broken.url, "POST", "/login", { body: { email: uniqueEmail(), password: "password123" } });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: "Internal server error", requestId: expect.any(String) });
      expect(lines.some((l) => l.includes(res.body.requestId) && l.includes("unhandled error"))).toBe(true);
      expect((await request(broken.url, "GET", "/healthz")).status).toBe(200); // still up
      expect((await request(broken.url, "GET", "/readyz")).status).toBe(503);
    } finally {
      await broken.destroy();
    }
  });
});
