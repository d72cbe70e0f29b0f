// Protocol-level answers over raw sockets (issue 15, HTTP hygiene): what Node
// would answer itself, or not at all, still gets a JSON body and the security
// headers, and a client's protocol error is never logged as a server failure.
// SQLite only: none of this depends on the engine.
import { connect } from "node:net";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let srv: TestServer;
const logLines: { level: number; msg?: string }[] = [];
beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  srv = await startTestServer({ engine: "sqlite", env: { BODY_LIMIT_BYTES: "1024" }, logger: createLogger("debug", sink) });
});
afterAll(() => srv.destroy());

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether an interim `100 Continue` came first. */
  continued: boolean;
}

/** Sends raw bytes and reads the first answer (until the server closes, or a complete body arrives). */
function raw(bytes: string, options: { end?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(srv.port, "127.0.0.1");
    let data = "";
    let continued = false;
    const done = () => {
      const head = data.indexOf("\r\n\r\n");
      if (head === -1) return false;
      const [statusLine, ...lines] = data.slice(0, head).split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
      if (statusLine!.startsWith("HTTP/1.1 100")) {
        data = data.slice(head + 4);
        continued = true;
        return done();
      }
      const body = data.slice(head + 4);
      if (headers["content-length"] === undefined || Buffer.byteLength(body) < Number(headers["content-length"])) return false;
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, body, continued });
      socket.destroy();
      return true;
    };
    socket.on("data", (chunk) => {
      data += chunk;
      done();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      if (!done()) reject(new Error(`no complete answer: ${JSON.stringify(data)}`));
    });
    socket.write(bytes);
    if (options.end) socket.end();
  });
}

function expectJsonAnswer(res: RawAnswer, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(JSON.parse(res.body)).toMatchObject({ error: expect.any(String) });
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.headers["x-content-type-options"]).toBe("nosniff");
  expect(res.headers["x-frame-options"]).toBe("DENY");
  expect(res.headers["content-security-policy"]).toMatch(/default-src 'none'/);
  expect(res.headers["referrer-policy"]).toBe("no-referrer");
  expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
}

const noErrorLogged = () => expect(logLines.filter((l) => l.level >= 50).map((l) => JSON.stringify(l))).toEqual([]);

describe("protocol-level answers", () => {
  it.each([
    ["a missing Host header", "GET /healthz HTTP/1.1\r\n\r\n", 400],
    ["OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["an unknown Expect", "POST /login HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 0\r\n\r\n", 417],
    ["CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405],
    ["a malformed request line", "NOT HTTP\r\n\r\n", 400],
    // Requests Node parses but that cannot become a Fetch Request (@hono/node-server's empty 400 before)
    ["a backslash in the path", "GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["a Host header that is not a host", "GET /healthz HTTP/1.1\r\nHost: a b<c>\r\n\r\n", 400],
    ["an absolute URL that is not http(s)", "GET ftp://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["oversized headers", `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${"a".repeat(20_000)}\r\n\r\n`, 431],
    [
      "Expect: 100-continue with a declared size over the limit",
      "POST /signup HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
      413,
    ],
  ])("%s gets a JSON answer with the security headers", async (_name, bytes, status) => {
    const res = await raw(bytes);
    expectJsonAnswer(res, status);
    expect(res.continued).toBe(false); // over the limit: 413 at once, never 100 Continue
    noErrorLogged();
  });

  it("an HTTP/1.0 request without Host (a load balancer's health check) is still served", async () => {
    const res = await raw("GET /healthz HTTP/1.0\r\n\r\n");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
  });

  it("Expect: 100-continue within the limit gets 100, then the route's answer", async () => {
    const body = '{"email":"x"}';
    const res = await raw(
      `POST /signup HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(res.continued).toBe(true);
    expectJsonAnswer(res, 400); // validation, from the route itself
  });
});

describe("broken request bodies are client errors", () => {
  it.each([
    ["a malformed chunked body", "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"],
    ["Transfer-Encoding: identity", "Transfer-Encoding: identity\r\n\r\n{}"],
  ])("%s: 400 JSON, never logged at error level", async (_name, rest) => {
    const res = await raw(`POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${rest}`);
    expectJsonAnswer(res, 400);
    noErrorLogged();
  });

  it("a body cut short is not logged at error level", async () => {
    const before = logLines.length;
    await raw("POST /signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\"", { end: true }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200)); // let the server notice the close (not a timing assertion)
    expect(logLines.length).toBeGreaterThan(before);
    noErrorLogged();
  });
});
