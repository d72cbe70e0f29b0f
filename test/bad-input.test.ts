// Each class of client mistake gets its own clear 4xx in the documented shape, and changes nothing.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, uniqueEmail } from "./helpers/http.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(() => srv.destroy());

/** A raw HTTP request, for bodies and framing fetch would not send. */
function rawRequest(options: http.RequestOptions, body?: string | Buffer | ((req: http.ClientRequest) => void)) {
  return new Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: srv.port, ...options }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, headers: res.headers }));
    });
    req.on("error", reject);
    if (typeof body === "function") body(req);
    else req.end(body);
  });
}

describe("request bodies", () => {
  it("answers malformed JSON with 400", async () => {
    const res = await request(srv.url, "POST", "/signup", { raw: '{"email": "a@b.c", "password": ', headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "Malformed JSON body" });
  });

  it("answers an empty body with 400", async () => {
    const res = await request(srv.url, "POST", "/login", { raw: "", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
  });

  it.each([["text/plain"], ["application/x-www-form-urlencoded"], ["multipart/form-data; boundary=x"], [""]])(
    "answers content type %j with 415",
    async (type) => {
      const email = uniqueEmail();
      const res = await request(srv.url, "POST", "/signup", {
        raw: JSON.stringify({ email, password: "password123" }),
        headers: type ? { "content-type": type } : {},
      });
      expect(res.status).toBe(415);
      expect(res.body).toEqual({ error: "Content-Type must be application/json" });
      expect(await srv.latchkey.store.findUserByEmail(email)).toBeNull();
    },
  );

  it("accepts a charset parameter on application/json", async () => {
    const res = await request(srv.url, "POST", "/signup", {
      raw: JSON.stringify({ email: uniqueEmail(), password: "password123" }),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(res.status).toBe(201);
  });

  it.each([["null"], ["[]"], ['"text"'], ["42"]])("answers the JSON value %s with 400 and an issue", async (raw) => {
    const res = await request(srv.url, "POST", "/signup", { raw, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("Invalid request body");
    expect(res.body.issues[0].path).toBe("");
  });

  it("answers a declared oversized body with 413 without reading it", async () => {
    const res = await rawRequest(
      { method: "POST", path: "/signup", headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) } },
      (req) => req.flushHeaders(), // headers only: the server must answer before any body arrives
    );
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "Request body must be at most 16384 bytes" });
  });

  it("answers a chunked body that grows past the limit with 413", async () => {
    const res = await rawRequest({ method: "POST", path: "/login", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }, (req) => {
      req.write('{"email":"' + "a".repeat(20_000));
      req.end('"}');
    });
    expect(res.status).toBe(413);
  });

  it("answers invalid UTF-8 without a 500", async () => {
    const body = Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('@x.y","password":"password123"}')]);
    const res = await rawRequest({ method: "POST", path: "/login", headers: { "content-type": "application/json" } }, body);
    expect(res.status).toBe(401);
  });

  it("answers deep nesting and wrong types with 400", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const res = await request(srv.url, "POST", "/signup", { raw: `{"email":${deep},"password":{"a":1}}`, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(["email", "password"]);
  });
});

describe("HTTP framing", () => {
  it("answers a malformed request line with 400 and stays up", async () => {
    const net = await import("node:net");
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(srv.port, "127.0.0.1", () => socket.write("GARBAGE\r\n\r\n"));
      let text = "";
      socket.on("data", (d) => (text += d));
      socket.on("close", () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await request(srv.url, "GET", "/healthz")).status).toBe(200);
  });
});
