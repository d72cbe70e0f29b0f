// TokenStore on the SQLite engine (tables from migration 2). better-sqlite3
// is synchronous, so each multi-step operation is one IMMEDIATE transaction:
// it holds the write lock from the start, which also serialises it against
// other processes on the same file.
import type Database from "better-sqlite3";
import type { NewEvent } from "../event-store.js";
import type { RotateResult, TokenStore } from "../token-store.js";
import type { SqliteEvents } from "./events.js";

export function createSqliteTokenStore(db: Database.Database, events: Pick<SqliteEvents, "insert">): TokenStore {
  const insertFamily = db.prepare(
    "INSERT INTO refresh_families (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
  );
  const insertRefresh = db.prepare(
    `INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const markUsed = db.prepare(
    `UPDATE refresh_tokens SET used_at = @now
      WHERE token_hash = @hash AND used_at IS NULL AND expires_at > @now
        AND family_id IN (SELECT id FROM refresh_families WHERE expires_at > @now)
      RETURNING family_id, user_id`,
  );
  const refreshByHash = db.prepare("SELECT family_id, user_id, used_at FROM refresh_tokens WHERE token_hash = ?");
  const familyExpiry = db.prepare("SELECT expires_at FROM refresh_families WHERE id = ?").pluck();
  const deleteFamily = db.prepare("DELETE FROM refresh_families WHERE id = ?");
  const deleteFamiliesOfUser = db.prepare("DELETE FROM refresh_families WHERE user_id = ?");
  const countFamilies = db
    .prepare("SELECT count(*) FROM refresh_families WHERE user_id = ? AND expires_at > ?")
    .pluck();
  const insertReset = db.prepare(
    "INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
  );
  const consumeReset = db
    .prepare("DELETE FROM reset_tokens WHERE token_hash = ? AND expires_at > ? RETURNING user_id")
    .pluck();
  const deleteResetOfUser = db.prepare("DELETE FROM reset_tokens WHERE user_id = ?");
  const familyLive = db.prepare("SELECT 1 FROM refresh_families WHERE id = ? AND user_id = ? AND expires_at > ?").pluck();
  const deleteAllFamilies = db.prepare("DELETE FROM refresh_families");
  const deleteAllResets = db.prepare("DELETE FROM reset_tokens");
  const getSetting = db.prepare("SELECT value FROM settings WHERE key = ?").pluck();
  const insertSetting = db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING");
  const pruneRefresh = db.prepare(
    "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash FROM refresh_tokens WHERE expires_at <= ? LIMIT ?)",
  );
  const pruneFamilies = db.prepare(
    "DELETE FROM refresh_families WHERE id IN (SELECT id FROM refresh_families WHERE expires_at <= ? LIMIT ?)",
  );
  const pruneReset = db.prepare(
    "DELETE FROM reset_tokens WHERE token_hash IN (SELECT token_hash FROM reset_tokens WHERE expires_at <= ? LIMIT ?)",
  );
  const deleteEmailTokensOfKind = db.prepare("DELETE FROM email_tokens WHERE user_id = ? AND kind = ?");
  const insertEmailToken = db.prepare(
    `INSERT INTO email_tokens (token_hash, kind, user_id, email, created_at, expires_at)
     VALUES (@tokenHash, @kind, @userId, @email, @createdAt, @expiresAt)`,
  );
  const consumeEmail = db.prepare("DELETE FROM email_tokens WHERE token_hash = ? AND kind = ? AND expires_at > ? RETURNING user_id, email");
  const pruneEmail = db.prepare(
    "DELETE FROM email_tokens WHERE token_hash IN (SELECT token_hash FROM email_tokens WHERE expires_at <= ? LIMIT ?)",
  );

  const rotate = db.transaction((hash: string, next: { tokenHash: string; expiresAt: number }, now: number, reuse?: NewEvent): RotateResult => {
    const won = markUsed.get({ hash, now }) as { family_id: string; user_id: string } | undefined;
    if (won) {
      const cap = familyExpiry.get(won.family_id) as number;
      insertRefresh.run(next.tokenHash, won.family_id, won.user_id, now, Math.min(next.expiresAt, cap));
      return { status: "ok", userId: won.user_id, familyId: won.family_id };
    }
    const seen = refreshByHash.get(hash) as { family_id: string; user_id: string; used_at: number | null } | undefined;
    if (seen?.used_at != null) {
      // A rotated token came back: someone holds a copy. End the whole family.
      deleteFamily.run(seen.family_id);
      if (reuse) events.insert({ ...reuse, userId: seen.user_id });
      return { status: "reused", userId: seen.user_id, familyId: seen.family_id };
    }
    return { status: "invalid" };
  });

  const revokeFamilyOf = db.transaction((hash: string, event?: NewEvent): boolean => {
    const seen = refreshByHash.get(hash) as { family_id: string; user_id: string } | undefined;
    const revoked = seen ? deleteFamily.run(seen.family_id).changes > 0 : false;
    if (revoked && event) events.insert({ ...event, userId: seen!.user_id });
    return revoked;
  });
  // One transaction each, like PostgreSQL: a failure leaves nothing half revoked.
  const revokeUser = db.transaction((userId: string): number => {
    const families = deleteFamiliesOfUser.run(userId).changes;
    deleteResetOfUser.run(userId);
    return families;
  });
  const revokeAll = db.transaction((): number => {
    const families = deleteAllFamilies.run().changes;
    deleteAllResets.run();
    return families;
  });

  const setIfAbsent = db.transaction((key: string, value: string): string => {
    insertSetting.run(key, value);
    return getSetting.get(key) as string;
  });

  return {
    async createRefreshFamily(f) {
      db.transaction(() => {
        insertFamily.run(f.familyId, f.userId, f.now, f.familyExpiresAt);
        insertRefresh.run(f.tokenHash, f.familyId, f.userId, f.now, Math.min(f.expiresAt, f.familyExpiresAt));
      }).immediate();
    },
    async rotateRefreshToken(tokenHash, next, now, reuseEvent) {
      return rotate.immediate(tokenHash, next, now, reuseEvent);
    },
    async revokeRefreshFamilyOf(tokenHash, event) {
      return revokeFamilyOf.immediate(tokenHash, event);
    },
    async revokeUserRefreshFamilies(userId) {
      return deleteFamiliesOfUser.run(userId).changes;
    },
    async countUserRefreshFamilies(userId, now) {
      return countFamilies.get(userId, now) as number;
    },
    async isRefreshFamilyLive(familyId, userId, now) {
      return familyLive.get(familyId, userId, now) !== undefined;
    },
    async revokeUserCredentials(userId) {
      return revokeUser.immediate(userId);
    },
    async revokeAllCredentials() {
      return revokeAll.immediate();
    },

    async createResetToken(t) {
      insertReset.run(t.tokenHash, t.userId, t.createdAt, t.expiresAt);
    },
    async consumeResetToken(tokenHash, now) {
      return (consumeReset.get(tokenHash, now) as string | undefined) ?? null;
    },
    async deleteUserResetTokens(userId) {
      return deleteResetOfUser.run(userId).changes;
    },

    async getSetting(key) {
      return (getSetting.get(key) as string | undefined) ?? null;
    },
    async setSettingIfAbsent(key, value) {
      return setIfAbsent.immediate(key, value);
    },

    async createEmailToken(t) {
      db.transaction(() => {
        deleteEmailTokensOfKind.run(t.userId, t.kind); // superseded
        insertEmailToken.run(t);
      }).immediate();
    },
    async consumeEmailToken(tokenHash, kind, now) {
      const r = consumeEmail.get(tokenHash, kind, now) as { user_id: string; email: string } | undefined;
      return r ? { userId: r.user_id, email: r.email } : null;
    },

    async pruneTokens(now, limit) {
      return (
        pruneRefresh.run(now, limit).changes +
        pruneFamilies.run(now, limit).changes +
        pruneReset.run(now, limit).changes +
        pruneEmail.run(now, limit).changes
      );
    },
  };
}
