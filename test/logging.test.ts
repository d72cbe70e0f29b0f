// Logs are structured, carry request ids and events, and never a password, token or hash.
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccessLog } from "../src/http/access-log.js";
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

  it("write the access line directly, exactly as pino writes the same fields", () => {
    const out: string[] = [];
    const logger = createLogger("info", { write: (line: string) => void out.push(line) });
    const access = createAccessLog(logger, true)!;
    const fields = { requestId: "r-1", method: "GET", path: '/odd"path\\with\nbreaks\u0001', status: 404 };
    access({ ...fields, started: performance.now() });
    logger.child({}, { redact: [] }).info({ ...fields, ms: 0.5 });
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\{.*\}\n$/s);
    const [direct, viaPino] = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(direct!)).toEqual(Object.keys(viaPino!));
    expect({ ...direct, time: 0, ms: 0 }).toEqual({ ...viaPino, time: 0, ms: 0 });
    expect(direct!.path).toBe(fields.path);
    expect(direct!.ms).toEqual(expect.any(Number));

    logger.level = "warn"; // a level raised at run time silences it too
    access({ ...fields, started: performance.now() });
    expect(out).toHaveLength(2);
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
