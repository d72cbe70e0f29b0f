// Databases made by earlier releases (schema versions 1 and 2, 1 to 3, and
// the previous release's 1 to 5, with data in every table) are upgraded by
// opening them with this one: nothing is lost, rows of users deleted before migration 3 go (PostgreSQL had
// no foreign keys on token rows), from then on deleting a user deletes its
// token rows, and migration 4's events table records, and keeps an account's
// history after the account is deleted.
import { createHash } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { postgresMigrations } from "../../src/store/postgres/migrations.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { sqliteMigrations } from "../../src/store/sqlite/migrations.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/server.js";
import { dropSchema, freshSchemaName, schemaUrl, servicesAvailable, TEST_DATABASE_URL } from "../helpers/services.js";

const NOW = 1_700_000_000_000;
const LATER = NOW + 86_400_000;
const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
const shipped = (list: { version: number; sql: string }[], upTo: number) => list.filter((m) => m.version <= upTo);
/** Every migration this release has. */
const CURRENT = [1, 2, 3, 4, 5, 6, 7];

/** The versions an upgrade is tested from: early ones, and the previous release's (schema 5). */
type From = 2 | 3 | 5;

/**
 * An earlier release's data: one user with a session and every kind of token
 * row, a setting, (v2) an access-token cutoff, (v5) a security event and an
 * emailed link of a proven address.
 */
const seed = (version: From) => [
  ...Array.from({ length: version }, (_, i) => `INSERT INTO schema_migrations (version, name, applied_at) VALUES (${i + 1}, 'step ${i + 1}', ${NOW})`),
  `INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES ('u1', 'kept@example.com', '$argon2id$x', 'user', ${NOW}, ${NOW})`,
  `INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at) VALUES ('sh1', 's1', 'u1', ${NOW}, ${NOW}, ${LATER})`,
  `INSERT INTO refresh_families (id, user_id, created_at, expires_at) VALUES ('f1', 'u1', ${NOW}, ${LATER})`,
  `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) VALUES ('rh1', 'f1', 'u1', ${NOW}, ${LATER})`,
  `INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ('ph1', 'u1', ${NOW}, ${LATER})`,
  `INSERT INTO settings (key, value) VALUES ('jwt.key', 'k1')`,
  ...(version === 2 ? [`INSERT INTO access_token_cutoffs (user_id, revoked_before) VALUES ('u1', ${NOW})`] : []),
  ...(version === 5
    ? [
        `UPDATE users SET email_verified_at = ${NOW} WHERE id = 'u1'`,
        `INSERT INTO events (id, at, type, user_id) VALUES ('evt_kept', ${NOW}, 'signup', 'u1')`,
        `INSERT INTO email_tokens (token_hash, kind, user_id, email, created_at, expires_at) VALUES ('eh1', 'verify', 'u1', 'kept@example.com', ${NOW}, ${LATER})`,
      ]
    : []),
];

/** What every engine must show after the upgrade, and what deleting the user must then remove. */
async function expectUpgraded(store: Store, count: (table: string) => Promise<number>, version: From, run: (sql: string) => Promise<unknown>) {
  const user = await store.findUserByEmail("kept@example.com");
  if (version < 5) {
    // Migration 5: an account made before it has an unproven address (null), and can prove it.
    expect(user).toMatchObject({ id: "u1", role: "user", passwordHash: "$argon2id$x", emailVerifiedAt: null });
    expect(await store.markEmailVerified("u1", "kept@example.com", NOW)).toBe(true);
  } else {
    expect(await store.tokens.consumeEmailToken("eh1", "verify", NOW)).toEqual({ userId: "u1", email: "kept@example.com" });
  }
  expect((await store.findUserById("u1"))?.emailVerifiedAt).toBe(NOW);
  // Migration 6: no second factor yet; one can be set up and spent like any other.
  expect(await store.factors.getTotp("u1")).toBeNull();
  expect(await store.factors.putPendingTotp("u1", "v1.sealed", NOW)).toBe(true);
  expect(await store.factors.enableTotp("u1", 10, ["rc1"], NOW)).toBe(true);
  await store.factors.createChallenge({ tokenHash: "ch1", kind: "cookie", userId: "u1", createdAt: NOW, expiresAt: LATER });
  // Migration 7: an account made before it is enabled, and can be disabled.
  expect((await store.findUserById("u1"))?.disabledUntil).toBeNull();
  expect(await store.setDisabledUntil("u1", LATER, NOW)).toBe("ok");
  expect((await store.findUserByEmail("kept@example.com"))?.disabledUntil).toBe(LATER);
  // Migration 6: a session made before it was made at a password log-in.
  expect((await store.findSession("sh1"))?.session).toMatchObject({ id: "s1", createdAt: NOW, authenticatedAt: NOW, aal: "aal1", impersonatorId: null });
  // An instance of the previous release, still running during the upgrade, writes sessions without the new columns.
  await run(`INSERT INTO sessions (token_hash, id, user_id, created_at, last_seen_at, expires_at) VALUES ('sh-old', 's-old', 'u1', ${NOW + 1}, ${NOW + 1}, ${LATER})`);
  expect((await store.findSession("sh-old"))?.session).toMatchObject({ id: "s-old", authenticatedAt: NOW + 1, aal: "aal1", impersonatorId: null });
  expect(await store.tokens.getSetting("jwt.key")).toBe("k1");
  expect(await store.tokens.isRefreshFamilyLive("f1", "u1", NOW)).toBe(true);
  expect(await count("refresh_tokens")).toBe(1);
  expect(await count("reset_tokens")).toBe(1);

  expect(await count("events")).toBe(version === 5 ? 1 : 0);
  const event = { type: "account.deleted", at: NOW, ip: "192.0.2.1", details: { by: "test" } };
  expect(await store.deleteUser("u1", { ...event, userId: "u1" })).toBe("ok");
  for (const table of ["sessions", "refresh_families", "refresh_tokens", "reset_tokens", "email_tokens", "totp_factors", "recovery_codes", "mfa_challenges"]) {
    expect(await count(table)).toBe(0);
  }
  // No foreign key to users: the account's history outlives it.
  const { events } = await store.events.list({ userId: "u1", limit: 10 });
  expect(events[0]).toMatchObject({ type: "account.deleted", userId: "u1", at: NOW, ip: "192.0.2.1", details: { by: "test" } });
  expect(events.map((e) => e.type)).toEqual(version === 5 ? ["account.deleted", "signup"] : ["account.deleted"]);
  expect(events[0]!.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
}

describe("upgrading a SQLite database made by the previous release", () => {
  const dir = tempDir("latchkey-upgrade-");
  afterAll(() => dir.remove());

  it("keeps the shipped steps as they shipped", () => {
    expect(shipped(sqliteMigrations, 5).map((m) => sha(m.sql))).toEqual(["9205099934e403b1", "f7e9e1881e013481", "5dfd219f83eff958", "725561ac157f7365", "02f571a858568ad1"]);
  });

  it.each([2, 3, 5] as const)("upgrades a version-%i database and keeps every row", async (version) => {
    const path = join(dir.path, `old-${version}.db`);
    const old = new Database(path);
    old.pragma("foreign_keys = ON");
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const m of shipped(sqliteMigrations, version)) old.exec(m.sql);
    for (const sql of seed(version)) old.exec(sql);
    old.close();

    const store = createSqliteStore(path);
    const count = async (table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    try {
      expect(store.db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all()).toEqual(CURRENT);
      expect(store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'access_token_cutoffs'").get()).toBeUndefined();
      await expectUpgraded(store, count, version, async (sql) => store.db.exec(sql));
    } finally {
      await store.close();
    }
  });
});

const pgUp = await servicesAvailable(["postgres"], "PostgreSQL upgrade from the previous release");

describe.skipIf(!pgUp)("upgrading a PostgreSQL schema made by the previous release", () => {
  it("keeps the shipped steps as they shipped", () => {
    expect(shipped(postgresMigrations, 5).map((m) => sha(m.sql))).toEqual(["1b5fd958f1885536", "641d53bcffad63ef", "7b45b387d8596e69", "0cd77855e97dc3d5", "c389de9fbcc79cfa"]);
  });

  it.each([2, 3, 5] as const)("upgrades a version-%i schema: keeps every row, drops token rows of users deleted before migration 3, cascades after it", async (version) => {
    const schema = freshSchemaName();
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
      await admin.query("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)");
      for (const m of shipped(postgresMigrations, version)) await admin.query(m.sql);
      for (const sql of seed(version)) await admin.query(sql);
      if (version === 2) {
        // Rows of a user deleted under that release: it had no foreign key to stop them.
        await admin.query(`INSERT INTO refresh_families (id, user_id, created_at, expires_at) VALUES ('f-ghost', 'ghost', ${NOW}, ${LATER})`);
        await admin.query(`INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) VALUES ('rh-ghost', 'f-ghost', 'ghost', ${NOW}, ${LATER})`);
        await admin.query(`INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ('ph-ghost', 'ghost', ${NOW}, ${LATER})`);
      }

      const store = await createPostgresStore(schemaUrl(schema));
      const count = async (table: string) => Number((await store.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
      try {
        const versions = await store.pool.query("SELECT version FROM schema_migrations ORDER BY version");
        expect(versions.rows.map((r) => r.version)).toEqual(CURRENT);
        expect((await store.pool.query("SELECT to_regclass('access_token_cutoffs') AS t")).rows[0].t).toBeNull();
        expect((await store.pool.query("SELECT count(*)::int AS n FROM refresh_families WHERE user_id = 'ghost'")).rows[0].n).toBe(0);
        expect((await store.pool.query("SELECT count(*)::int AS n FROM reset_tokens WHERE user_id = 'ghost'")).rows[0].n).toBe(0);
        await expectUpgraded(store, count, version, (sql) => store.pool.query(sql));
      } finally {
        await store.close();
      }
    } finally {
      await admin.end();
      await dropSchema(schema);
    }
  });
});
