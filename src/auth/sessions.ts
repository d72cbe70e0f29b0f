// Server-side sessions in the style of the Lucia guide: small explicit
// functions over the store. The cookie carries the token; the store keeps
// only SHA-256(token).
import type { Clock } from "../clock.js";
import type { NewEvent } from "../store/event-store.js";
import type { Aal, SessionRow, SessionWithUser, Store } from "../store/store.js";
import { generatePublicId, generateToken, hashToken, isWellFormedToken } from "./tokens.js";

export interface SessionSettings {
  idleTimeoutMs: number;
  absoluteLifetimeMs: number;
  /** Sliding renewal writes last_seen_at at most this often. */
  touchIntervalMs: number;
}

export interface SessionMeta {
  userAgent?: string | null | undefined;
  ip?: string | null | undefined;
}

/** What the user proved, and when: a new session's is now, at the level given (default aal1). */
export interface SessionProof {
  aal: Aal;
  authenticatedAt: number;
}

const MAX_USER_AGENT = 512;

export function isSessionExpired(session: SessionRow, now: number, settings: SessionSettings): boolean {
  return now >= session.expiresAt || now >= session.lastSeenAt + settings.idleTimeoutMs;
}

export function createSessionManager(store: Store, settings: SessionSettings, clock: Clock) {
  /**
   * A fresh session for the user; returns the token (for the cookie) and the
   * stored row. `impersonation`: an admin signed in as the user, for at most
   * `maxMs` (the absolute lifetime, if shorter, still wins).
   */
  async function create(
    userId: string,
    meta: SessionMeta = {},
    proof?: Partial<SessionProof>,
    impersonation?: { adminId: string; maxMs: number },
  ): Promise<{ token: string; session: SessionRow }> {
    const token = generateToken();
    const now = clock();
    const session: SessionRow = {
      id: generatePublicId(),
      tokenHash: hashToken(token),
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + Math.min(settings.absoluteLifetimeMs, impersonation?.maxMs ?? Infinity),
      userAgent: meta.userAgent ? meta.userAgent.slice(0, MAX_USER_AGENT) : null,
      ip: meta.ip ?? null,
      authenticatedAt: proof?.authenticatedAt ?? now,
      aal: proof?.aal ?? "aal1",
      impersonatorId: impersonation?.adminId ?? null,
    };
    await store.createSession(session);
    return { token, session };
  }

  return {
    settings,
    create,

    /**
     * The live session named by the token, or null. Expired sessions are
     * deleted on sight; a live one is touched at most once per touch interval,
     * so the usual authenticated request is a single indexed read.
     */
    async validate(token: string): Promise<SessionWithUser | null> {
      if (!isWellFormedToken(token)) return null;
      const tokenHash = hashToken(token);
      const found = await store.findSession(tokenHash);
      if (!found) return null;
      const now = clock();
      if (isSessionExpired(found.session, now, settings)) {
        await store.deleteSession(tokenHash);
        return null;
      }
      if (now - found.session.lastSeenAt >= settings.touchIntervalMs) {
        // An UPDATE, never an upsert: if a logout deleted the row meanwhile, it stays deleted.
        if (!(await store.touchSession(tokenHash, now))) return null;
        return { user: found.user, session: { ...found.session, lastSeenAt: now } }; // store rows may be frozen
      }
      return found;
    },

    /** Ends the session the token names, recording `event` (its user and id filled in) if there was one. */
    async revoke(token: string, event?: NewEvent): Promise<void> {
      if (isWellFormedToken(token)) await store.deleteSession(hashToken(token), event);
    },

    /** Ends one session by its public id, only if it belongs to the user. */
    async revokeById(userId: string, sessionId: string, event?: NewEvent): Promise<boolean> {
      return store.deleteUserSession(userId, sessionId, event);
    },

    /** The user's sessions that are still live (expired-but-unpruned rows are left out), newest first. */
    async listLive(userId: string): Promise<SessionRow[]> {
      const now = clock();
      return (await store.listUserSessions(userId)).filter((s) => !isSessionExpired(s, now, settings));
    },

    /**
     * Replaces a session with a fresh one for the same user (new token, new
     * public id, new lifetimes) after a privilege change or a
     * re-authentication. It keeps what the old one proved unless `proof`
     * says otherwise. The new row exists before the old one goes, so the
     * user is never left without a session.
     */
    async rotate(old: SessionRow, meta: SessionMeta = {}, proof?: SessionProof): Promise<{ token: string; session: SessionRow }> {
      const fresh = await create(
        old.userId,
        { userAgent: meta.userAgent ?? old.userAgent, ip: meta.ip ?? old.ip },
        proof ?? { aal: old.aal, authenticatedAt: old.authenticatedAt },
      );
      await store.deleteSession(old.tokenHash);
      return fresh;
    },

    /** Deletes expired sessions in bounded batches; returns how many went. */
    async prune(batchSize: number, maxBatches = 100): Promise<number> {
      let total = 0;
      for (let i = 0; i < maxBatches; i++) {
        const n = await store.pruneSessions(clock(), settings.idleTimeoutMs, batchSize);
        total += n;
        if (n < batchSize) break;
      }
      return total;
    },
  };
}

export type SessionManager = ReturnType<typeof createSessionManager>;
