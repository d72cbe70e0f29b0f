// An in-process cache of session+user reads for the SQLite engine, with
// revocation that stays immediate:
//  - writes made by the store's own methods update or drop entries at once:
//    each write method says what it does to the cache (index.ts), and the
//    token store's writes (refresh families, reset links, settings) touch no
//    session entry, so they leave it alone;
//  - writes made by any other connection (the CLI, a second instance) are
//    seen through `PRAGMA data_version`, which SQLite changes for this
//    connection whenever another one commits. It is read before any cache
//    hit is trusted: once per batch of reads (readBatch), and the store only
//    batches lookups that were all asked for before the batch runs, so a
//    foreign revocation committed before a request arrived is never answered
//    from the cache.
// Entries hold exactly what the database said; expiry is still decided by the
// session manager on every request, with its clock.
import type Database from "better-sqlite3";
import type { SessionWithUser } from "../store.js";

export interface SessionCache {
  /**
   * The sessions found for these token hashes: from the cache when no other
   * connection has committed since the entry was loaded, else from `load`
   * (whose result is then cached). Other connections' commits are looked at
   * once, before any of them is read: sound only for lookups that were all
   * asked for before this call.
   */
  readBatch(tokenHashes: readonly string[], load: (tokenHash: string) => SessionWithUser | null): Map<string, SessionWithUser>;
  forget(tokenHash: string): void;
  forgetUser(userId: string): void;
  /** Updates the cached last_seen_at after a successful touch. */
  touched(tokenHash: string, lastSeenAt: number): void;
  clear(): void;
  readonly size: number;
  /** Lookups answered from the cache (hits) and from the database (misses), since start. */
  readonly stats: SessionCacheStats;
}

export interface SessionCacheStats {
  readonly hits: number;
  readonly misses: number;
}

/**
 * Entries are frozen, so every request can be handed the same objects (no
 * copy per hit) and none can change what the next one reads. Frozen rows also
 * let toPublicUser() compute a user's public form once per entry.
 */
const frozen = (v: SessionWithUser): SessionWithUser =>
  Object.freeze({ session: Object.freeze({ ...v.session }), user: Object.freeze({ ...v.user }) });

/** The cache for one connection (`PRAGMA data_version` is per connection). */
export function attachSessionCache(db: Database.Database, maxEntries: number): SessionCache {
  const entries = new Map<string, SessionWithUser>();
  const dataVersion = db.prepare("PRAGMA data_version").pluck();
  let seenVersion = dataVersion.get() as number;
  // Plain integers, read at scrape time (GET /metrics): a cached GET /me costs
  // a few us, and a `++` is all the hit path can afford.
  let hits = 0;
  let misses = 0;

  const clear = () => {
    entries.clear();
  };

  /** True when no other connection has committed since we last looked; else forgets everything. */
  const unchangedElsewhere = (): boolean => {
    const v = dataVersion.get() as number;
    if (v === seenVersion) return true;
    seenVersion = v;
    entries.clear();
    return false;
  };

  /** Reads the row and keeps it (unless the cache is off). */
  const loadEntry = (tokenHash: string, load: (tokenHash: string) => SessionWithUser | null) => {
    const loaded = load(tokenHash);
    if (!loaded || maxEntries === 0) return loaded;
    const value = frozen(loaded);
    if (entries.size >= maxEntries) {
      // Oldest insertion first: cheap, and hot sessions come straight back.
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
    entries.set(tokenHash, value);
    return value;
  };

  const cache: SessionCache = {
    readBatch(tokenHashes, load) {
      const found = new Map<string, SessionWithUser>();
      // The version is read BEFORE the rows: every entry was loaded after the
      // moment `seenVersion` was taken, so any commit elsewhere that could make
      // it stale also makes the next look see a different version.
      const trusted = maxEntries > 0 && unchangedElsewhere();
      for (const tokenHash of tokenHashes) {
        let value = trusted ? entries.get(tokenHash) : undefined;
        if (value) hits++;
        else {
          // A miss whatever the reason: not cached, stale after a commit elsewhere, or the cache is off.
          misses++;
          value = loadEntry(tokenHash, load) ?? undefined;
        }
        if (value) found.set(tokenHash, value);
      }
      return found;
    },
    forget(tokenHash) {
      entries.delete(tokenHash);
    },
    forgetUser(userId) {
      for (const [key, v] of entries) if (v.user.id === userId) entries.delete(key);
    },
    touched(tokenHash, lastSeenAt) {
      const hit = entries.get(tokenHash);
      if (hit) entries.set(tokenHash, Object.freeze({ user: hit.user, session: Object.freeze({ ...hit.session, lastSeenAt }) }));
    },
    clear,
    get size() {
      return entries.size;
    },
    get stats() {
      return { hits, misses };
    },
  };

  return cache;
}
