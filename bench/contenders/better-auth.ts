// better-auth (email + password, its defaults) on Hono over SQLite, the way
// its docs mount it; /me is its `GET /api/auth/get-session`.
import { createHmac, randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import Database from "better-sqlite3";
import { Hono } from "hono";
import { envInt, ready } from "./protocol.js";

const db = new Database(join(process.env.BENCH_DIR ?? ".", "better-auth.db"));
db.pragma("journal_mode = WAL");
const secret = randomBytes(32).toString("hex");
const auth = betterAuth({
  database: db,
  secret,
  baseURL: "http://127.0.0.1",
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
  // Its per-IP rate limit (on by default in production) would answer the load generator with 429s.
  rateLimit: { enabled: false },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const app = new Hono();
app.on(["GET", "POST"], "/api/auth/*", (c) => auth.handler(c.req.raw));

// One real sign-up, then more sessions cloned from its row (a sign-up costs a scrypt hash each).
const signup = await auth.api.signUpEmail({
  body: { email: "user0@example.com", password: "password123", name: "User 0" },
  asResponse: true,
});
if (!signup.ok) throw new Error(`better-auth sign-up failed: ${signup.status} ${await signup.text()}`);
const first = db.prepare("SELECT * FROM session LIMIT 1").get() as Record<string, unknown>;
const columns = Object.keys(first);
const insert = db.prepare(`INSERT INTO session (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
const cookieName = "better-auth.session_token";
const signed = (token: string) => encodeURIComponent(`${token}.${createHmac("sha256", secret).update(token).digest("base64")}`);
const cookies = [`${cookieName}=${signed(String(first.token))}`];
db.transaction(() => {
  for (let i = 1; i < envInt("BENCH_TOKENS", 1000); i++) {
    const token = randomBytes(24).toString("base64url");
    insert.run(...columns.map((c) => (c === "id" ? randomBytes(16).toString("hex") : c === "token" ? token : first[c])));
    cookies.push(`${cookieName}=${signed(token)}`);
  }
})();

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  ready({
    port: info.port,
    cookies,
    deadCookie: `${cookieName}=${signed(randomBytes(24).toString("base64url"))}`,
    deadStatus: 200, // better-auth answers an unknown session with 200 and a null body
    note: "better-auth, SQLite, defaults",
  });
});
void server;
