// Latchkey itself, started the way `npm start` starts it (startServer with a
// config from the environment), after seeding users and live sessions.
//   DATABASE_URL     engine (sqlite:<file> or postgres://...)
//   BENCH_SESSIONS   live sessions in the store (SQLite: inserted in one transaction)
//   BENCH_TOKENS     how many of them the runner gets cookies for
//   BENCH_SEED_FILE  where the tokens are kept: when it exists, the database is
//                    taken as already seeded (a second run over the same file)
//   BENCH_SEED_ONLY  seed, write BENCH_SEED_FILE and exit (so the seeding's page
//                    cache does not count in the server's resident memory)
// User 0 has the password "password123" hashed at the configured Argon2 parameters (login scenario).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hash } from "@node-rs/argon2";
import type Database from "better-sqlite3";
import { sessionCookieName } from "../../src/auth/cookies.js";
import { loadConfig } from "../../src/config.js";
import { startServer } from "../../src/serve.js";
import { openStore } from "../../src/store/open.js";
import { envInt, ready } from "./protocol.js";

const config = loadConfig();
const store = await openStore(config);
const total = envInt("BENCH_SESSIONS", 1000);
const active = Math.min(envInt("BENCH_TOKENS", 1000), total);
const userCount = Math.min(1000, active);
const now = Date.now();
const passwordHash = await hash("password123", { algorithm: 2, ...config.argon2 });

const users = Array.from({ length: userCount }, (_, i) => ({
  id: randomUUID(),
  email: `user${i}@example.com`,
  passwordHash,
  role: "user" as const,
  createdAt: now,
}));
const tokens = Array.from({ length: active }, () => randomBytes(32).toString("base64url"));
// Public ids in ascending order too, so their unique index is appended to rather than split at random.
let publicIds: string[] = []; // filled only when seeding: a million strings would swell the server's memory
const sessionRow = (i: number, tokenHash: string) => ({
  id: publicIds[i] ?? randomBytes(16).toString("base64url"),
  tokenHash,
  userId: users[i % userCount]!.id,
  createdAt: now,
  lastSeenAt: now,
  expiresAt: now + config.session.absoluteLifetimeMs,
  userAgent: "bench",
  ip: "127.0.0.1",
  authenticatedAt: now,
  aal: "aal1" as const,
  impersonatorId: null,
});
const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");

const seedFile = process.env.BENCH_SEED_FILE;
const db = (store as { db?: Database.Database }).db;
if (seedFile && existsSync(seedFile)) {
  tokens.splice(0, tokens.length, ...(JSON.parse(readFileSync(seedFile, "utf8")) as string[]));
} else if (db) {
  // SQLite: everything in one transaction; sessions past the active ones get random hashes (no token exists for them).
  const insertUser = db.prepare(
    "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const insertSession = db.prepare(
    `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at, user_agent, ip, authenticated_at, aal)
     VALUES (@tokenHash, @id, @userId, @createdAt, @lastSeenAt, @expiresAt, @userAgent, @ip, @authenticatedAt, @aal)`,
  );
  // A page cache big enough for the whole file while seeding, and keys inserted
  // in order: a million random-order B-tree inserts through the default 2 MB
  // cache would take minutes.
  db.pragma("cache_size = -1048576");
  publicIds = Array.from({ length: total }, () => randomBytes(16).toString("base64url")).sort();
  const rest = Array.from({ length: total - active }, () => randomBytes(32).toString("hex")).sort();
  db.transaction(() => {
    for (const u of users) insertUser.run(u.id, u.email, u.passwordHash, u.role, u.createdAt, u.createdAt);
    for (let i = 0; i < active; i++) insertSession.run(sessionRow(i, sha256(tokens[i]!)));
    for (let i = 0; i < rest.length; i++) insertSession.run(sessionRow(active + i, rest[i]!));
  })();
  db.pragma("cache_size = -2000");
  publicIds = [];
  db.pragma("wal_checkpoint(TRUNCATE)");
} else {
  for (const u of users) await store.createUser(u);
  for (let i = 0; i < active; i++) await store.createSession(sessionRow(i, sha256(tokens[i]!)));
}

if (seedFile && !existsSync(seedFile)) writeFileSync(seedFile, JSON.stringify(tokens));

if (process.env.BENCH_SEED_ONLY) {
  await store.close();
  ready({ port: 0 });
  process.exit(0);
}

const cookieName = sessionCookieName({ secure: config.secureCookies });
const running = await startServer({ config, store });
ready({
  port: running.port,
  cookies: tokens.map((t) => `${cookieName}=${t}`),
  deadCookie: `${cookieName}=${randomBytes(32).toString("base64url")}`,
  deadStatus: 401,
  note: `${store.engine}, cache ${config.session.cacheSize}`,
});
process.once("SIGTERM", () => void running.close().then(() => process.exit(0)));
