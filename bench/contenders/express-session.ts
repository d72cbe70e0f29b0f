// The usual alternative: express 5 + express-session, with its MemoryStore
// (BENCH_STORE=memory, not for production: it leaks and is per-process) or an
// SQLite store (BENCH_STORE=sqlite: better-sqlite3-session-store). Passwords
// use the same @node-rs/argon2 at the same parameters as Latchkey, so the
// cycle compares what surrounds the hash.
import { randomBytes, randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { hash, verify } from "@node-rs/argon2";
import Database from "better-sqlite3";
import express from "express";
import session from "express-session";
import { loadConfig } from "../../src/config.js";
import { envInt, ready } from "./protocol.js";

const require = createRequire(import.meta.url);
const { sign } = require("cookie-signature") as { sign(value: string, secret: string): string };

declare module "express-session" {
  interface SessionData {
    user: { id: string; email: string; role: string; createdAt: string };
  }
}

const argon2 = { algorithm: 2 as const, ...loadConfig().argon2 };
const secret = randomBytes(32).toString("hex");
const kind = process.env.BENCH_STORE === "sqlite" ? "sqlite" : "memory";
let store: session.Store;
if (kind === "sqlite") {
  const SqliteStore = require("better-sqlite3-session-store")(session);
  const db = new Database(join(process.env.BENCH_DIR ?? ".", "express-sessions.db"));
  db.pragma("journal_mode = WAL");
  store = new SqliteStore({ client: db, expired: { clear: true, intervalMs: 15 * 60_000 } });
} else {
  store = new session.MemoryStore();
}

const users = new Map<string, { id: string; email: string; passwordHash: string; createdAt: string }>();
const publicUser = (u: { id: string; email: string; createdAt: string }) => ({ id: u.id, email: u.email, role: "user", createdAt: u.createdAt });

const app = express();
app.use(express.json({ limit: "16kb" }));
app.use(
  session({ store, secret, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: "lax", maxAge: 30 * 86_400_000 } }),
);
app.post("/signup", async (req, res) => {
  const { email, password } = req.body ?? {};
  if (typeof email !== "string" || typeof password !== "string") return void res.status(400).json({ error: "Invalid body" });
  if (users.has(email)) return void res.status(409).json({ error: "Email already registered" });
  const user = { id: randomUUID(), email, passwordHash: await hash(password, argon2), createdAt: new Date().toISOString() };
  users.set(email, user);
  res.status(201).json({ user: publicUser(user) });
});
app.post("/login", async (req, res, next) => {
  const { email, password } = req.body ?? {};
  const user = typeof email === "string" ? users.get(email) : undefined;
  if (!user || typeof password !== "string" || !(await verify(user.passwordHash, password))) {
    return void res.status(401).json({ error: "Invalid email or password" });
  }
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = publicUser(user);
    res.json({ user: req.session.user });
  });
});
app.get("/me", (req, res) => {
  if (!req.session.user) return void res.status(401).json({ error: "Unauthorized" });
  res.json({ user: req.session.user });
});
app.post("/logout", (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie("connect.sid").json({ message: "Logged out" });
  });
});

// Seed live sessions straight into the store, with the cookies express-session would have set.
const count = envInt("BENCH_TOKENS", 1000);
const cookies: string[] = [];
const password = await hash("password123", argon2);
users.set("user0@example.com", { id: randomUUID(), email: "user0@example.com", passwordHash: password, createdAt: new Date().toISOString() });
for (let i = 0; i < count; i++) {
  const sid = randomUUID();
  const expires = new Date(Date.now() + 30 * 86_400_000);
  const data = {
    cookie: { originalMaxAge: 30 * 86_400_000, expires: expires.toISOString(), httpOnly: true, path: "/", sameSite: "lax" },
    user: { id: randomUUID(), email: `user${i}@example.com`, role: "user", createdAt: new Date().toISOString() },
  };
  await new Promise<void>((resolve, reject) => store.set(sid, data as never, (err) => (err ? reject(err) : resolve())));
  cookies.push(`connect.sid=${encodeURIComponent("s:" + sign(sid, secret))}`);
}

const server = app.listen(0, "127.0.0.1", () => {
  ready({
    port: (server.address() as AddressInfo).port,
    cookies,
    deadCookie: `connect.sid=${encodeURIComponent("s:" + sign(randomUUID(), secret))}`,
    deadStatus: 401,
    note: `express-session ${kind} store`,
  });
});
