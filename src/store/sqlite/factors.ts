// FactorStore on the SQLite engine (tables from migration 6). Each write of
// more than one statement is one IMMEDIATE transaction; single-use steps are
// conditional statements, so two processes on one file cannot both win.
import type Database from "better-sqlite3";
import type { NewEvent } from "../event-store.js";
import type { FactorStore, TotpFactor } from "../factor-store.js";
import type { SqliteEvents } from "./events.js";

interface TotpRecord {
  user_id: string;
  secret_sealed: string;
  created_at: number;
  enabled_at: number | null;
  last_used_step: number | null;
}

const toTotp = (r: TotpRecord): TotpFactor => ({
  userId: r.user_id,
  secretSealed: r.secret_sealed,
  createdAt: r.created_at,
  enabledAt: r.enabled_at,
  lastUsedStep: r.last_used_step,
});

export function createSqliteFactorStore(db: Database.Database, events: Pick<SqliteEvents, "insert">): FactorStore {
  const getTotp = db.prepare("SELECT * FROM totp_factors WHERE user_id = ?");
  const putPending = db.prepare(
    `INSERT INTO totp_factors (user_id, secret_sealed, created_at) VALUES (?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, created_at = excluded.created_at
      WHERE totp_factors.enabled_at IS NULL`,
  );
  const enable = db.prepare("UPDATE totp_factors SET enabled_at = ?, last_used_step = ? WHERE user_id = ? AND enabled_at IS NULL");
  const useStep = db.prepare(
    "UPDATE totp_factors SET last_used_step = ? WHERE user_id = ? AND enabled_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < ?)",
  );
  const removeTotp = db.prepare("DELETE FROM totp_factors WHERE user_id = ?");
  const deleteCodes = db.prepare("DELETE FROM recovery_codes WHERE user_id = ?");
  const insertCode = db.prepare("INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)");
  const useCode = db.prepare("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?");
  const countCodes = db.prepare("SELECT count(*) FROM recovery_codes WHERE user_id = ?").pluck();
  const anySecret = db.prepare("SELECT secret_sealed FROM totp_factors LIMIT 1").pluck();
  const insertChallenge = db.prepare(
    "INSERT INTO mfa_challenges (token_hash, kind, user_id, created_at, expires_at) VALUES (@tokenHash, @kind, @userId, @createdAt, @expiresAt)",
  );
  const findChallenge = db.prepare("SELECT user_id FROM mfa_challenges WHERE token_hash = ? AND kind = ? AND expires_at > ?").pluck();
  const consumeChallenge = db.prepare("DELETE FROM mfa_challenges WHERE token_hash = ? AND kind = ? AND expires_at > ?");
  const deleteChallenges = db.prepare("DELETE FROM mfa_challenges WHERE user_id = ?");
  const pruneChallenges = db.prepare(
    "DELETE FROM mfa_challenges WHERE token_hash IN (SELECT token_hash FROM mfa_challenges WHERE expires_at <= ? LIMIT ?)",
  );

  const writeCodes = (userId: string, hashes: string[], now: number) => {
    deleteCodes.run(userId);
    for (const hash of hashes) insertCode.run(userId, hash, now);
  };
  const enableTx = db.transaction((userId: string, step: number, hashes: string[], now: number, event: NewEvent | undefined) => {
    if (enable.run(now, step, userId).changes === 0) return false;
    writeCodes(userId, hashes, now);
    if (event) events.insert({ ...event, userId: event.userId ?? userId });
    return true;
  });
  const removeTx = db.transaction((userId: string, event: NewEvent | undefined) => {
    deleteCodes.run(userId);
    if (removeTotp.run(userId).changes === 0) return false;
    if (event) events.insert({ ...event, userId: event.userId ?? userId });
    return true;
  });
  const replaceTx = db.transaction((userId: string, hashes: string[], now: number, event: NewEvent | undefined) => {
    writeCodes(userId, hashes, now);
    if (event) events.insert({ ...event, userId: event.userId ?? userId });
  });
  const useCodeTx = db.transaction((userId: string, hash: string, event: NewEvent | undefined) => {
    if (useCode.run(userId, hash).changes === 0) return false;
    if (event) events.insert({ ...event, userId: event.userId ?? userId });
    return true;
  });

  return {
    async getTotp(userId) {
      const r = getTotp.get(userId) as TotpRecord | undefined;
      return r ? toTotp(r) : null;
    },
    async putPendingTotp(userId, secretSealed, now) {
      return putPending.run(userId, secretSealed, now).changes > 0;
    },
    async enableTotp(userId, step, hashes, now, event) {
      return enableTx.immediate(userId, step, hashes, now, event);
    },
    async useTotpStep(userId, step) {
      return useStep.run(step, userId, step).changes > 0;
    },
    async removeTotp(userId, event) {
      return removeTx.immediate(userId, event);
    },
    async replaceRecoveryCodes(userId, hashes, now, event) {
      replaceTx.immediate(userId, hashes, now, event);
    },
    async useRecoveryCode(userId, hash, _now, event) {
      return useCodeTx.immediate(userId, hash, event);
    },
    async countRecoveryCodes(userId) {
      return countCodes.get(userId) as number;
    },
    async anySealedSecret() {
      return (anySecret.get() as string | undefined) ?? null;
    },
    async createChallenge(challenge) {
      insertChallenge.run(challenge);
    },
    async findChallenge(tokenHash, kind, now) {
      return (findChallenge.get(tokenHash, kind, now) as string | undefined) ?? null;
    },
    async consumeChallenge(tokenHash, kind, now) {
      return consumeChallenge.run(tokenHash, kind, now).changes > 0;
    },
    async deleteUserChallenges(userId) {
      return deleteChallenges.run(userId).changes;
    },
    async pruneChallenges(now, limit) {
      return pruneChallenges.run(now, limit).changes;
    },
  };
}
