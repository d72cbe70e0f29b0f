// Opaque secrets: 256-bit tokens from the CSPRNG, base64url, and the SHA-256
// that is all a database ever stores of them.
import { createHash, randomBytes } from "node:crypto";

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** 32 random bytes, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** A public identifier (128 bits): names a row without being a credential. */
export function generatePublicId(): string {
  return randomBytes(16).toString("base64url");
}

export function isWellFormedToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/**
 * Recently computed hashes: a session cookie is sent on every request, and
 * hashing it again each time is a measurable share of an authenticated GET.
 * Bounded, and emptied when full (cheaper than LRU bookkeeping; the hot
 * tokens come straight back).
 */
const recentHashes = new Map<string, string>();
const RECENT_HASHES_MAX = 10_000;

/** Lower-case hex SHA-256 of the token: the only form a store keeps. */
export function hashToken(token: string): string {
  let hash = recentHashes.get(token);
  if (hash === undefined) {
    hash = createHash("sha256").update(token).digest("hex");
    if (recentHashes.size >= RECENT_HASHES_MAX) recentHashes.clear();
    recentHashes.set(token, hash);
  }
  return hash;
}
