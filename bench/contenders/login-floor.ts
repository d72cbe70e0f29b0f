// The login floor: the least a session login can do, to show how much of the
// gap to raw Argon2id verify no login server can close. Bare node:http, one
// indexed user read (better-sqlite3, WAL), the verify through the same
// one-at-a-time limiter Latchkey uses, one row inserted into Latchkey's
// sessions table (its own migrations), and the cookie. No framework, no
// rate limits, no logging, no validation beyond JSON.parse: not a server
// anyone should run, only a measure.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { hash, verify } from "@node-rs/argon2";
import { createLimiter } from "../../src/auth/passwords.js";
import { loadConfig } from "../../src/config.js";
import { openSqliteDatabase } from "../../src/store/sqlite/index.js";
import { ready } from "./protocol.js";

const { argon2 } = loadConfig();
// Latchkey's own file setup and migrations: the same tables, indexes, pragmas and foreign keys a login writes through.
const db = openSqliteDatabase(join(process.env.BENCH_DIR ?? ".", "login-floor.db"));
const params = { algorithm: 2 as const, memoryCost: argon2.memoryCost, timeCost: argon2.timeCost, parallelism: argon2.parallelism };
const createdAt = Date.now();
db.prepare("INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)").run(
  randomUUID(), "user0@example.com", await hash("password123", params), createdAt, createdAt,
);
const findUser = db.prepare<[string], { id: string; email: string; password_hash: string }>(
  "SELECT id, email, password_hash FROM users WHERE email = ?",
);
const insertSession = db.prepare(
  "INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
);
const limiter = createLimiter(argon2.concurrency);
const DENIED = JSON.stringify({ error: "Invalid email or password" });

async function login(text: string, userAgent: string | undefined): Promise<[number, string, string?]> {
  const { email, password } = JSON.parse(text) as { email: string; password: string };
  const user = findUser.get(email);
  if (!user || !(await limiter.run(() => verify(user.password_hash, password)))) return [401, DENIED];
  const token = randomBytes(32).toString("base64url");
  const now = Date.now();
  const tokenHash = createHash("sha256").update(token).digest("hex");
  insertSession.run(tokenHash, randomBytes(16).toString("base64url"), user.id, now, now, now + 30 * 86_400_000, userAgent ?? null, null);
  return [200, JSON.stringify({ user: { id: user.id, email: user.email } }), `session=${token}; Path=/; HttpOnly; Secure; SameSite=Lax`];
}

const server = createServer((req, res) => {
  let text = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (text += chunk));
  req.on("end", () => {
    login(text, req.headers["user-agent"]).then(
      ([status, body, cookie]) => {
        const headers: Record<string, string | number> = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
        if (cookie) headers["set-cookie"] = cookie;
        res.writeHead(status, headers).end(body);
      },
      () => res.writeHead(400).end(),
    );
  });
});
server.listen(0, "127.0.0.1", () => ready({ port: (server.address() as AddressInfo).port }));
