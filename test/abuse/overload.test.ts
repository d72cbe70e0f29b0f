// Overload and stalled clients: a full hash queue answers 503 at once, and a
// request that never finishes arriving is cut off by the server's timeouts.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { request, uniqueEmail, type ApiResponse } from "../helpers/http.js";
import type { TestServer } from "../helpers/server.js";
import { startLimitedServer } from "./helpers.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.destroy();
  srv = undefined;
});

describe("a full password-hash queue", () => {
  it("refuses further logins and signups with 503 + Retry-After instead of queueing them, then recovers", async () => {
    // One hash at a time, one waiting, and hashes slow enough (~tens of ms) that 12 concurrent requests overflow.
    srv = await startLimitedServer({
      ARGON2_CONCURRENCY: "1",
      ARGON2_MAX_QUEUE: "1",
      ARGON2_MEMORY_KIB: "19456",
      ARGON2_TIME_COST: "4",
    });
    const server = srv;
    const storm = (i: number): Promise<ApiResponse> =>
      i % 2
        ? request(server.url, "POST", "/login", { body: { email: uniqueEmail(), password: "wrong-password" }, headers: { "x-forwarded-for": `192.0.2.${i}` } })
        : request(server.url, "POST", "/signup", { body: { email: `storm-${i}@example.com`, password: "a fine password" }, headers: { "x-forwarded-for": `192.0.2.${i}` } });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => storm(i)));

    const busy = results.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expect(r.body).toEqual({ error: "Server busy, try again" });
      expect(r.headers.get("retry-after")).toBe("1");
      expect(r.setCookie).toBeNull();
    }
    // Everything else was answered normally: nothing is lost or half-done.
    for (const [i, r] of results.entries()) {
      if (r.status !== 503) expect(r.status).toBe(i % 2 ? 401 : 201);
    }
    // A refused signup created no user: the same email signs up fine now that the storm is over.
    const refusedSignup = results.findIndex((r, i) => i % 2 === 0 && r.status === 503);
    if (refusedSignup >= 0) {
      const again = await request(server.url, "POST", "/signup", {
        body: { email: `storm-${refusedSignup}@example.com`, password: "a fine password" },
        headers: { "x-forwarded-for": "192.0.2.200" },
      });
      expect(again.status).toBe(201);
    }
    expect((await request(server.url, "GET", "/healthz")).status).toBe(200);
  });
});

/** Opens a raw connection, writes `sent`, then stalls; resolves with what the server said before it hung up. */
function stall(port: number, sent: string): Promise<{ reply: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(sent));
    let reply = "";
    socket.on("data", (d) => (reply += d));
    socket.on("error", reject);
    socket.on("close", () => resolve({ reply, ms: Date.now() - started }));
    setTimeout(() => {
      socket.destroy();
      reject(new Error("the server kept a stalled connection open for 15 s"));
    }, 15_000).unref();
  });
}

describe("slowloris", () => {
  it("cuts off a client that never finishes its headers, answering 408 in the JSON error shape", async () => {
    srv = await startLimitedServer({ HEADERS_TIMEOUT: "1s", REQUEST_TIMEOUT: "2s" });
    const { reply } = await stall(srv.port, "POST /login HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toMatch(/content-type: application\/json/i);
    expect(reply.slice(reply.indexOf("\r\n\r\n") + 4)).toBe('{"error":"Request took too long to arrive"}');
    expect((await request(srv.url, "GET", "/healthz")).status).toBe(200);
  });

  it("cuts off a client that never finishes its body", async () => {
    srv = await startLimitedServer({ HEADERS_TIMEOUT: "1s", REQUEST_TIMEOUT: "2s" });
    const head = "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    const { reply } = await stall(srv.port, head + '{"email":');
    // Whatever the server managed to say, it hung up instead of waiting forever.
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply.slice(reply.indexOf("\r\n\r\n") + 4)).toBe('{"error":"Request took too long to arrive"}');
  });
});
