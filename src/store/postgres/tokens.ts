// TokenStore on PostgreSQL (schema: migration 2 in migrations.ts), over a
// pg Pool. Single-use steps are conditional statements (UPDATE/DELETE ...
// RETURNING), so concurrent callers are serialised by the row lock and
// exactly one of them sees the row.
//
// Lock order: every path that touches a family's rows locks the FAMILY row
// first, then its token rows. Rotation takes the family with SELECT ... FOR
// UPDATE before it updates its token; revocation deletes the family, which
// cascades to the tokens. Rotation used to lock the token row first (and the
// family only for its foreign-key check), the opposite order from a
// revocation's cascade: the two deadlocked and PostgreSQL aborted one of them,
// the revocation as often as not. A transaction that PostgreSQL still aborts as
// a deadlock or serialisation victim is retried whole.
import type pg from "pg";
import type { RotateResult, TokenStore } from "../token-store.js";
import type { Connection } from "./connection.js";
import type { InsertEvent } from "./events.js";

/** BIGINT columns arrive as strings from pg; times fit a double exactly. */
const num = (v: string | number) => Number(v);

export function createPostgresTokenStore(db: Connection, insertEvent: InsertEvent): TokenStore {
  const { query, transaction } = db;
  return {
    async createRefreshFamily(f) {
      await transaction(async (db) => {
        await db.query("INSERT INTO refresh_families (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)", [
          f.familyId,
          f.userId,
          f.now,
          f.familyExpiresAt,
        ]);
        await db.query(
          `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5)`,
          [f.tokenHash, f.familyId, f.userId, f.now, Math.min(f.expiresAt, f.familyExpiresAt)],
        );
      });
    },

    async rotateRefreshToken(tokenHash, next, now, reuseEvent): Promise<RotateResult> {
      return transaction(async (db) => {
        // The family row first (see the lock order above). A revocation that
        // holds it makes us wait, and then the family is gone: no row.
        const locked = await db.query<{ id: string; user_id: string; expires_at: string }>(
          `SELECT id, user_id, expires_at FROM refresh_families
            WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
            FOR UPDATE`,
          [tokenHash],
        );
        const family = locked.rows[0];
        if (!family || num(family.expires_at) <= now) return { status: "invalid" };
        // Under the family lock, a second use of the same token waits for the
        // first to commit, then finds used_at set and matches nothing.
        const won = await db.query(
          `WITH used AS (
             UPDATE refresh_tokens SET used_at = $2
              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
              RETURNING family_id, user_id)
           INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)
           SELECT $3, family_id, user_id, $2, $4 FROM used`,
          [tokenHash, now, next.tokenHash, Math.min(next.expiresAt, num(family.expires_at))],
        );
        if ((won.rowCount ?? 0) > 0) return { status: "ok", userId: family.user_id, familyId: family.id };
        const seen = await db.query<{ used_at: string | null }>("SELECT used_at FROM refresh_tokens WHERE token_hash = $1", [
          tokenHash,
        ]);
        if (seen.rows[0] && seen.rows[0].used_at !== null) {
          // A rotated token came back: someone holds a copy. End the whole family (its row is ours already).
          await db.query("DELETE FROM refresh_families WHERE id = $1", [family.id]);
          if (reuseEvent) await insertEvent(db, { ...reuseEvent, userId: family.user_id });
          return { status: "reused", userId: family.user_id, familyId: family.id };
        }
        return { status: "invalid" };
      });
    },

    async revokeRefreshFamilyOf(tokenHash, event) {
      // One statement: the family row, then (by the cascade) its tokens; retried like the rest if it is a deadlock victim.
      return transaction(async (db) => {
        const { rows } = await db.query<{ user_id: string }>(
          "DELETE FROM refresh_families WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1) RETURNING user_id",
          [tokenHash],
        );
        if (rows[0] && event) await insertEvent(db, { ...event, userId: rows[0].user_id });
        return rows.length > 0;
      });
    },
    async revokeUserRefreshFamilies(userId) {
      return transaction((db) => deleteFamiliesOfUser(db, userId));
    },
    async revokeUserCredentials(userId) {
      return transaction(async (db) => {
        const families = await deleteFamiliesOfUser(db, userId);
        await db.query("DELETE FROM reset_tokens WHERE user_id = $1", [userId]);
        return families;
      });
    },
    async revokeAllCredentials() {
      return transaction(async (db) => {
        const r = await db.query("DELETE FROM refresh_families");
        await db.query("DELETE FROM reset_tokens");
        return r.rowCount ?? 0;
      });
    },
    async isRefreshFamilyLive(familyId, userId, now) {
      // Named: prepared once per connection, then only bound and run (every bearer request asks this).
      const r = await query({ name: "latchkey.family_live", text: "SELECT 1 FROM refresh_families WHERE id = $1 AND user_id = $2 AND expires_at > $3" }, [
        familyId,
        userId,
        now,
      ]);
      return (r.rowCount ?? 0) > 0;
    },
    async countUserRefreshFamilies(userId, now) {
      const r = await query<{ n: string }>(
        "SELECT count(*) AS n FROM refresh_families WHERE user_id = $1 AND expires_at > $2",
        [userId, now],
      );
      return num(r.rows[0]!.n);
    },

    async createResetToken(t) {
      await query("INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)", [
        t.tokenHash,
        t.userId,
        t.createdAt,
        t.expiresAt,
      ]);
    },
    async consumeResetToken(tokenHash, now) {
      const r = await query<{ user_id: string }>(
        "DELETE FROM reset_tokens WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id",
        [tokenHash, now],
      );
      return r.rows[0]?.user_id ?? null;
    },
    async deleteUserResetTokens(userId) {
      const r = await query("DELETE FROM reset_tokens WHERE user_id = $1", [userId]);
      return r.rowCount ?? 0;
    },

    async createEmailToken(t) {
      await transaction(async (db) => {
        await db.query("DELETE FROM email_tokens WHERE user_id = $1 AND kind = $2", [t.userId, t.kind]); // superseded
        await db.query(
          `INSERT INTO email_tokens (token_hash, kind, user_id, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
          [t.tokenHash, t.kind, t.userId, t.email, t.createdAt, t.expiresAt],
        );
      });
    },
    async consumeEmailToken(tokenHash, kind, now) {
      const r = await query<{ user_id: string; email: string }>(
        "DELETE FROM email_tokens WHERE token_hash = $1 AND kind = $2 AND expires_at > $3 RETURNING user_id, email",
        [tokenHash, kind, now],
      );
      return r.rows[0] ? { userId: r.rows[0].user_id, email: r.rows[0].email } : null;
    },

    async getSetting(key) {
      const r = await query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
      return r.rows[0]?.value ?? null;
    },
    async setSettingIfAbsent(key, value) {
      // Two instances starting at once: one insert wins, both read the winner.
      await query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, value]);
      const r = await query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
      return r.rows[0]!.value;
    },

    async pruneTokens(now, limit) {
      let total = 0;
      for (const table of ["refresh_tokens", "refresh_families", "reset_tokens", "email_tokens"] as const) {
        const key = table === "refresh_families" ? "id" : "token_hash";
        const r = await query(
          `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at <= $1 LIMIT $2)`,
          [now, limit],
        );
        total += r.rowCount ?? 0;
      }
      return total;
    },
  };
}

/**
 * Locks the user's families in id order, then deletes them (their tokens go by
 * the cascade): two revocations of one user lock in the same order.
 */
async function deleteFamiliesOfUser(db: pg.PoolClient, userId: string): Promise<number> {
  await db.query("SELECT id FROM refresh_families WHERE user_id = $1 ORDER BY id FOR UPDATE", [userId]);
  const r = await db.query("DELETE FROM refresh_families WHERE user_id = $1", [userId]);
  return r.rowCount ?? 0;
}
