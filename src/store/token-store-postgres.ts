// TokenStore on PostgreSQL (schema in migrations/postgres-tokens.ts), over a
// pg Pool. Single-use steps are single conditional statements (UPDATE/DELETE
// ... RETURNING), so concurrent callers are serialised by the row lock and
// exactly one of them sees the row.
import type pg from "pg";
import type { RotateResult, TokenStore } from "./token-store.js";

/** BIGINT columns arrive as strings from pg; times fit a double exactly. */
const num = (v: string | number) => Number(v);

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export function createPostgresTokenStore(pool: pg.Pool): TokenStore {
  return {
    async createRefreshFamily(f) {
      await inTransaction(pool, async (db) => {
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

    async rotateRefreshToken(tokenHash, next, now): Promise<RotateResult> {
      return inTransaction(pool, async (db) => {
        // A second concurrent UPDATE of the same row waits for the first to
        // commit, re-checks `used_at IS NULL`, and matches nothing.
        const won = await db.query<{ family_id: string; user_id: string; family_expires_at: string }>(
          `UPDATE refresh_tokens t SET used_at = $2
             FROM refresh_families f
            WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2
              AND f.id = t.family_id AND f.expires_at > $2
            RETURNING t.family_id, t.user_id, f.expires_at AS family_expires_at`,
          [tokenHash, now],
        );
        const row = won.rows[0];
        if (row) {
          await db.query(
            `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)`,
            [next.tokenHash, row.family_id, row.user_id, now, Math.min(next.expiresAt, num(row.family_expires_at))],
          );
          return { status: "ok", userId: row.user_id, familyId: row.family_id };
        }
        const seen = await db.query<{ family_id: string; user_id: string; used_at: string | null }>(
          "SELECT family_id, user_id, used_at FROM refresh_tokens WHERE token_hash = $1",
          [tokenHash],
        );
        const old = seen.rows[0];
        if (old && old.used_at !== null) {
          // A rotated token came back: someone holds a copy. End the whole family.
          await db.query("DELETE FROM refresh_families WHERE id = $1", [old.family_id]);
          return { status: "reused", userId: old.user_id, familyId: old.family_id };
        }
        return { status: "invalid" };
      });
    },

    async revokeRefreshFamilyOf(tokenHash) {
      const r = await pool.query(
        "DELETE FROM refresh_families WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
        [tokenHash],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async revokeUserRefreshFamilies(userId) {
      const r = await pool.query("DELETE FROM refresh_families WHERE user_id = $1", [userId]);
      return r.rowCount ?? 0;
    },
    async countUserRefreshFamilies(userId, now) {
      const r = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM refresh_families WHERE user_id = $1 AND expires_at > $2",
        [userId, now],
      );
      return num(r.rows[0]!.n);
    },

    async createResetToken(t) {
      await pool.query("INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)", [
        t.tokenHash,
        t.userId,
        t.createdAt,
        t.expiresAt,
      ]);
    },
    async consumeResetToken(tokenHash, now) {
      const r = await pool.query<{ user_id: string }>(
        "DELETE FROM reset_tokens WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id",
        [tokenHash, now],
      );
      return r.rows[0]?.user_id ?? null;
    },
    async deleteUserResetTokens(userId) {
      const r = await pool.query("DELETE FROM reset_tokens WHERE user_id = $1", [userId]);
      return r.rowCount ?? 0;
    },

    async revokeAccessTokensBefore(userId, at) {
      await pool.query(
        `INSERT INTO access_token_cutoffs (user_id, revoked_before) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE
           SET revoked_before = GREATEST(access_token_cutoffs.revoked_before, EXCLUDED.revoked_before)`,
        [userId, at],
      );
    },
    async accessTokenCutoff(userId) {
      const r = await pool.query<{ revoked_before: string }>(
        "SELECT revoked_before FROM access_token_cutoffs WHERE user_id = $1",
        [userId],
      );
      return r.rows[0] ? num(r.rows[0].revoked_before) : null;
    },

    async getSetting(key) {
      const r = await pool.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
      return r.rows[0]?.value ?? null;
    },
    async setSettingIfAbsent(key, value) {
      // Two instances starting at once: one insert wins, both read the winner.
      await pool.query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, value]);
      const r = await pool.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
      return r.rows[0]!.value;
    },

    async pruneTokens(now, limit) {
      let total = 0;
      for (const table of ["refresh_tokens", "refresh_families", "reset_tokens"] as const) {
        const key = table === "refresh_families" ? "id" : "token_hash";
        const r = await pool.query(
          `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE expires_at <= $1 LIMIT $2)`,
          [now, limit],
        );
        total += r.rowCount ?? 0;
      }
      return total;
    },
  };
}
