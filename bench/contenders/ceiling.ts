// The ceiling: bare node:http answering /me from an in-memory Map keyed by the
// cookie value. No framework, no hashing, no database: the most any session
// server on this machine can do for this request.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { envInt, ready } from "./protocol.js";

const sessions = new Map<string, Buffer>();
const cookies: string[] = [];
for (let i = 0; i < envInt("BENCH_TOKENS", 1000); i++) {
  const token = randomBytes(32).toString("base64url");
  const user = { id: randomUUID(), email: `user${i}@example.com`, role: "user", createdAt: new Date().toISOString() };
  sessions.set(token, Buffer.from(JSON.stringify({ user })));
  cookies.push(`session=${token}`);
}
const UNAUTHORIZED = Buffer.from(JSON.stringify({ error: "Unauthorized" }));

const server = createServer((req, res) => {
  if (req.url !== "/me") {
    res.writeHead(404).end();
    return;
  }
  const cookie = req.headers.cookie ?? "";
  const at = cookie.indexOf("session=");
  const end = at < 0 ? -1 : cookie.indexOf(";", at);
  const body = at < 0 ? undefined : sessions.get(cookie.slice(at + 8, end < 0 ? undefined : end));
  const out = body ?? UNAUTHORIZED;
  // Content-Length given up front: one write, no chunked encoding.
  res.writeHead(body ? 200 : 401, { "content-type": "application/json", "content-length": out.length }).end(out);
});
server.listen(0, "127.0.0.1", () => {
  ready({
    port: (server.address() as AddressInfo).port,
    cookies,
    deadCookie: `session=${randomBytes(32).toString("base64url")}`,
    deadStatus: 401,
  });
});
