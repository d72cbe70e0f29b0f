// Bearer tokens for non-browser clients (apps, CLIs, services). Browsers keep
// the session cookie; these routes never read cookies, and cookie routes never
// read an Authorization header.
//
// - Access token: a short-lived JWT (jose), algorithm pinned on verify, with
//   sub, role, sid, jti, iat, exp, iss, aud. `sid` is the id of the refresh
//   family (the login) it was issued in. Checked on every use against the user
//   (still exists) and the family (still live), so whatever ends the family
//   (logout, reuse detection, logout-all, a password change, a role change)
//   ends its access tokens at once, not at their expiry. The family check is
//   exact: no clock comparison, so a refresh racing a revocation cannot mint
//   a token that outlives it.
// - Refresh token: 256 random bits, stored as SHA-256 only, rotated on every
//   use inside a family (one family per login). A rotated token presented again
//   means a copy leaked: the whole family is revoked.
import { newEvent, type EventContext } from "../events.js";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Clock } from "../clock.js";
import type { Config, SigningKey } from "../config.js";
import { refuse } from "../refusals.js";
import type { Logger } from "../log.js";
import type { User } from "../schemas.js";
import type { Store, UserRow } from "../store/store.js";
import { generateToken, hashToken, isWellFormedToken } from "./tokens.js";
import { toPublicUser } from "./users.js";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  /** Seconds until the access token expires. */
  expiresIn: number;
}

export interface BearerAuth {
  user: User;
  /** The verified access token's id, family and times (seconds). */
  token: { jti: string; sid: string; iat: number; exp: number };
}

export interface BearerDeps {
  config: Pick<Config, "env" | "tokens">;
  store: Store;
  clock: Clock;
  logger: Logger;
}

/** The JWT `typ` header (RFC 9068), so an ID token or another JWT is never taken for an access token. */
const ACCESS_TOKEN_TYPE = "at+jwt";
/** Where the generated development key is kept in the token store's settings. */
export const DEV_KEY_SETTING = "jwt.dev-ed25519-private-jwk";
/** Longer Authorization headers are refused unread. */
const MAX_TOKEN_LENGTH = 4096;
const BEARER_HEADER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

interface Keys {
  alg: "EdDSA" | "HS256";
  sign: KeyObject;
  verify: KeyObject;
  kid: string | undefined;
}

async function toKeys(key: SigningKey): Promise<Keys> {
  if (key.alg === "HS256") return { alg: "HS256", sign: key.secret, verify: key.secret, kid: undefined };
  const kid = await calculateJwkThumbprint(await exportJWK(key.publicKey));
  return { alg: "EdDSA", sign: key.privateKey, verify: key.publicKey, kid };
}

/**
 * The configured key, or in development/test a generated Ed25519 key kept in
 * the database so that restarts (and other instances on the same database)
 * keep accepting the tokens already issued.
 */
async function loadKeys(deps: BearerDeps): Promise<Keys> {
  const configured = deps.config.tokens.signingKey;
  if (configured) return toKeys(configured);
  if (deps.config.env === "production") throw new Error("No signing key in production"); // config refuses this first
  const tokens = deps.store.tokens;
  let jwk = await tokens.getSetting(DEV_KEY_SETTING);
  if (!jwk) {
    const fresh = JSON.stringify(generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }));
    jwk = await tokens.setSettingIfAbsent(DEV_KEY_SETTING, fresh);
  }
  deps.logger.warn({
    event: "tokens.dev_key",
    message:
      "No JWT_PRIVATE_KEY or JWT_SECRET set: signing access tokens with a generated development key stored in the database. Set one in production.",
  });
  const privateKey = createPrivateKey({ key: JSON.parse(jwk), format: "jwk" });
  return toKeys({ alg: "EdDSA", privateKey, publicKey: createPublicKey(privateKey) });
}

export function createBearer(deps: BearerDeps) {
  const { config, store, clock, logger } = deps;
  const settings = config.tokens;
  const accessTtlSeconds = Math.max(1, Math.floor(settings.accessTtlMs / 1000));

  let keys: Promise<Keys> | undefined;
  const getKeys = () => {
    keys ??= loadKeys(deps).catch((err) => {
      keys = undefined; // a store hiccup at start must not disable tokens for good
      throw err;
    });
    return keys;
  };

  async function signAccessToken(user: UserRow, familyId: string): Promise<{ accessToken: string; expiresIn: number }> {
    const k = await getKeys();
    const now = clock();
    const iat = Math.floor(now / 1000);
    const exp = iat + accessTtlSeconds;
    const accessToken = await new SignJWT({ role: user.role, sid: familyId })
      .setProtectedHeader({ alg: k.alg, typ: ACCESS_TOKEN_TYPE, ...(k.kid ? { kid: k.kid } : {}) })
      .setSubject(user.id)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .sign(k.sign);
    return { accessToken, expiresIn: exp - iat };
  }

  const pair = (access: { accessToken: string; expiresIn: number }, refreshToken: string): TokenPair => ({
    accessToken: access.accessToken,
    refreshToken,
    tokenType: "Bearer",
    expiresIn: access.expiresIn,
  });

  /** The verified claims, or null for anything not a live, correctly signed access token of ours. */
  async function verifyAccessToken(token: string): Promise<AccessClaims | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const k = await getKeys();
    try {
      const { payload } = await jwtVerify(token, k.verify, {
        algorithms: [k.alg], // pinned: alg "none", a swapped algorithm or an HS256-with-public-key trick all fail here
        issuer: settings.issuer,
        audience: settings.audience,
        typ: ACCESS_TOKEN_TYPE,
        // Tokens issued before `sid` existed (no family to check) are refused: they lived 15 minutes at most.
        requiredClaims: ["sub", "sid", "jti", "iat", "exp"],
        currentDate: new Date(clock()),
      });
      return typeof payload.sid === "string" ? (payload as AccessClaims) : null;
    } catch {
      return null;
    }
  }

  return {
    /** Starts a refresh family for a user who just proved their password; returns the first pair. */
    async issue(user: UserRow): Promise<TokenPair> {
      const now = clock();
      const refreshToken = generateToken();
      const familyId = randomUUID();
      await store.tokens.createRefreshFamily({
        familyId,
        userId: user.id,
        tokenHash: hashToken(refreshToken),
        now,
        expiresAt: now + settings.refreshTtlMs,
        familyExpiresAt: now + settings.refreshAbsoluteLifetimeMs,
      });
      return pair(await signAccessToken(user, familyId), refreshToken);
    },

    /** Rotates a refresh token: a new pair, or why not ("reused" has revoked the family). */
    async refresh(refreshToken: string, context: EventContext = {}): Promise<TokenPair | { status: "reused" | "invalid" }> {
      if (!isWellFormedToken(refreshToken)) return { status: "invalid" };
      const tokens = store.tokens;
      const now = clock();
      const next = generateToken();
      const result = await tokens.rotateRefreshToken(
        hashToken(refreshToken),
        { tokenHash: hashToken(next), expiresAt: now + settings.refreshTtlMs },
        now,
        newEvent("token.reuse_detected", now, context, null),
      );
      if (result.status === "reused") {
        logger.warn({ event: "token.refresh_reuse", userId: result.userId, familyId: result.familyId });
        return { status: "reused" };
      }
      if (result.status === "invalid") return { status: "invalid" };
      const user = await store.findUserById(result.userId);
      if (!user) {
        await tokens.revokeRefreshFamilyOf(hashToken(next));
        return { status: "invalid" };
      }
      return pair(await signAccessToken(user, result.familyId), next);
    },

    /**
     * Ends the refresh family the token belongs to; with a context, records
     * the logout. Unknown tokens are ignored (logout is idempotent).
     */
    async revoke(refreshToken: string, context?: EventContext): Promise<void> {
      if (!isWellFormedToken(refreshToken)) return;
      const event = context && newEvent("logout", clock(), context, null, { client: "bearer" });
      await store.tokens.revokeRefreshFamilyOf(hashToken(refreshToken), event);
    },

    verifyAccessToken,

    /**
     * The user behind `Authorization: Bearer <access token>`, or the 401 that
     * ends the request. Reads no cookie, ever.
     */
    async authenticate(request: Request): Promise<BearerAuth | Response> {
      const header = request.headers.get("authorization");
      if (header === null) return bearerUnauthorized(false);
      const match = BEARER_HEADER.exec(header);
      if (!match) return bearerUnauthorized(true);
      const claims = await verifyAccessToken(match[1]!);
      if (!claims) return bearerUnauthorized(true);
      // Two independent reads, side by side: the user, and the token's family (one primary-key read).
      const [user, live] = await Promise.all([
        store.findUserById(claims.sub),
        store.tokens.isRefreshFamilyLive(claims.sid, claims.sub, clock()),
      ]);
      if (!user || !live) return bearerUnauthorized(true);
      return { user: toPublicUser(user), token: { jti: claims.jti, sid: claims.sid, iat: claims.iat, exp: claims.exp } };
    },

    /** Loads (or in development creates) the signing key now, so the warning appears at start. */
    warmUp: () => getKeys().then(() => undefined),
  };
}

export type Bearer = ReturnType<typeof createBearer>;

type AccessClaims = JWTPayload & { sub: string; sid: string; jti: string; iat: number; exp: number };

/** 401 with the RFC 6750 challenge; `invalid` adds error="invalid_token" when a token was sent. */
export function bearerUnauthorized(invalid: boolean): Response {
  return refuse("unauthorized", undefined, {
    "www-authenticate": invalid ? 'Bearer error="invalid_token"' : "Bearer",
  });
}
