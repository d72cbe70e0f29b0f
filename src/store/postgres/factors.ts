// FactorStore on PostgreSQL (tables from migration 6). Single-use steps are
// conditional UPDATE/DELETE statements: the row lock serialises concurrent
// callers, and exactly one of them changes the row.
import type { FactorStore, TotpFactor } from "../factor-store.js";
import type { Connection } from "./connection.js";
import type { InsertEvent } from "./events.js";

interface TotpRecord {
  user_id: string;
  secret_sealed: string;
  created_at: string;
  enabled_at: string | null;
  last_used_step: string | null;
}

/** BIGINT columns arrive as strings from pg; times and steps fit a double exactly. */
const num = (v: string | null) => (v === null ? null : Number(v));

const toTotp = (r: TotpRecord): TotpFactor => ({
  userId: r.user_id,
  secretSealed: r.secret_sealed,
  createdAt: Number(r.created_at),
  enabledAt: num(r.enabled_at),
  lastUsedStep: num(r.last_used_step),
});

export function createPostgresFactorStore(db: Connection, insertEvent: InsertEvent): FactorStore {
  const { query, transaction } = db;
  return {
    async getTotp(userId) {
      const r = await query<TotpRecord>("SELECT * FROM totp_factors WHERE user_id = $1", [userId]);
      return r.rows[0] ? toTotp(r.rows[0]) : null;
    },
    async putPendingTotp(userId, secretSealed, now) {
      const r = await query(
        `INSERT INTO totp_factors (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at
          WHERE totp_factors.enabled_at IS NULL`,
        [userId, secretSealed, now],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async enableTotp(userId, step, hashes, now, event) {
      return transaction(async (db) => {
        const r = await db.query("UPDATE totp_factors SET enabled_at = $1, last_used_step = $2 WHERE user_id = $3 AND enabled_at IS NULL", [now, step, userId]);
        if ((r.rowCount ?? 0) === 0) return false;
        await db.query("DELETE FROM recovery_codes WHERE user_id = $1", [userId]);
        await db.query("INSERT INTO recovery_codes (user_id, code_hash, created_at) SELECT $1, unnest($2::text[]), $3", [userId, hashes, now]);
        if (event) await insertEvent(db, { ...event, userId: event.userId ?? userId });
        return true;
      });
    },
    async useTotpStep(userId, step) {
      const r = await query(
        "UPDATE totp_factors SET last_used_step = $1 WHERE user_id = $2 AND enabled_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < $1)",
        [step, userId],
      );
      return (r.rowCount ?? 0) > 0;
    },
    async removeTotp(userId, event) {
      return transaction(async (db) => {
        const r = await db.query("DELETE FROM totp_factors WHERE user_id = $1", [userId]);
        await db.query("DELETE FROM recovery_codes WHERE user_id = $1", [userId]);
        if ((r.rowCount ?? 0) === 0) return false;
        if (event) await insertEvent(db, { ...event, userId: event.userId ?? userId });
        return true;
      });
    },
    async replaceRecoveryCodes(userId, hashes, now, event) {
      await transaction(async (db) => {
        await db.query("DELETE FROM recovery_codes WHERE user_id = $1", [userId]);
        await db.query("INSERT INTO recovery_codes (user_id, code_hash, created_at) SELECT $1, unnest($2::text[]), $3", [userId, hashes, now]);
        if (event) await insertEvent(db, { ...event, userId: event.userId ?? userId });
      });
    },
    async useRecoveryCode(userId, hash, _now, event) {
      return transaction(async (db) => {
        const r = await db.query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2", [userId, hash]);
        if ((r.rowCount ?? 0) === 0) return false;
        if (event) await insertEvent(db, { ...event, userId: event.userId ?? userId });
        return true;
      });
    },
    async countRecoveryCodes(userId) {
      const r = await query<{ n: number }>("SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1", [userId]);
      return r.rows[0]!.n;
    },
    async anySealedSecret() {
      const r = await query<{ secret_sealed: string }>("SELECT secret_sealed FROM totp_factors LIMIT 1");
      return r.rows[0]?.secret_sealed ?? null;
    },
    async createChallenge(c) {
      await query("INSERT INTO mfa_challenges (token_hash, kind, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)", [
        c.tokenHash,
        c.kind,
        c.userId,
        c.createdAt,
        c.expiresAt,
      ]);
    },
    async findChallenge(tokenHash, kind, now) {
      const r = await query<{ user_id: string }>("SELECT user_id FROM mfa_challenges WHERE token_hash = $1 AND kind = $2 AND expires_at > $3", [
        tokenHash,
        kind,
        now,
      ]);
      return r.rows[0]?.user_id ?? null;
    },
    async consumeChallenge(tokenHash, kind, now) {
      const r = await query("DELETE FROM mfa_challenges WHERE token_hash = $1 AND kind = $2 AND expires_at > $3", [tokenHash, kind, now]);
      return (r.rowCount ?? 0) > 0;
    },
    async deleteUserChallenges(userId) {
      const r = await query("DELETE FROM mfa_challenges WHERE user_id = $1", [userId]);
      return r.rowCount ?? 0;
    },
    async pruneChallenges(now, limit) {
      const r = await query("DELETE FROM mfa_challenges WHERE token_hash IN (SELECT token_hash FROM mfa_challenges WHERE expires_at <= $1 LIMIT $2)", [
        now,
        limit,
      ]);
      return r.rowCount ?? 0;
    },
  };
}
