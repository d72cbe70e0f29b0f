// The TokenStore contract, run unchanged against every engine.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken, hashToken } from "../../src/auth/tokens.js";
import type { TokenStore } from "../../src/store/token-store.js";

export interface TokenStoreFixture {
  /** Two handles on the same database (two connections / pools), for races. */
  tokens: TokenStore;
  other: TokenStore;
  /** Makes a user row exist, for engines whose token tables reference users. */
  createUser(id: string): Promise<void>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);

export function tokenStoreContract(engine: string, open: () => Promise<TokenStoreFixture>) {
  describe(`TokenStore contract: ${engine}`, () => {
    let fx: TokenStoreFixture;
    let s: TokenStore;
    beforeAll(async () => {
      fx = await open();
      s = fx.tokens;
    });
    afterAll(() => fx?.close());

    const newUser = async () => {
      const id = randomUUID();
      await fx.createUser(id);
      return id;
    };
    const newFamily = async (userId: string, now = T0, ttl = 30 * DAY, familyTtl = 90 * DAY) => {
      const token = generateToken();
      const familyId = randomUUID();
      await s.createRefreshFamily({
        familyId,
        userId,
        tokenHash: hashToken(token),
        now,
        expiresAt: now + ttl,
        familyExpiresAt: now + familyTtl,
      });
      return { token, familyId };
    };
    const next = (now = T0, ttl = 30 * DAY) => ({ token: generateToken(), expiresAt: now + ttl });
    const rotate = (store: TokenStore, token: string, n: { token: string; expiresAt: number }, now = T0) =>
      store.rotateRefreshToken(hashToken(token), { tokenHash: hashToken(n.token), expiresAt: n.expiresAt }, now);

    describe("refresh tokens", () => {
      it("rotates a live token once, then the new one, each exactly once", async () => {
        const userId = await newUser();
        const { token, familyId } = await newFamily(userId);
        const n1 = next();
        expect(await rotate(s, token, n1, T0 + 1000)).toEqual({ status: "ok", userId, familyId });
        const n2 = next();
        expect(await rotate(s, n1.token, n2, T0 + 2000)).toEqual({ status: "ok", userId, familyId });
        expect(await s.countUserRefreshFamilies(userId, T0)).toBe(1);
      });

      it("answers invalid for an unknown token", async () => {
        expect(await rotate(s, generateToken(), next())).toEqual({ status: "invalid" });
      });

      it("revokes the whole family when a rotated token is used again", async () => {
        const userId = await newUser();
        const { token, familyId } = await newFamily(userId);
        const n1 = next();
        await rotate(s, token, n1, T0 + 1);
        expect(await rotate(s, token, next(), T0 + 2)).toEqual({ status: "reused", userId, familyId });
        // The legitimate holder's newer token died with the family.
        expect(await rotate(s, n1.token, next(), T0 + 3)).toEqual({ status: "invalid" });
        expect(await s.countUserRefreshFamilies(userId, T0)).toBe(0);
      });

      it("refuses an expired token, and caps a rotated token at the family's expiry", async () => {
        const userId = await newUser();
        const { token } = await newFamily(userId, T0, 30 * DAY, 40 * DAY);
        expect(await rotate(s, token, next(), T0 + 30 * DAY)).toEqual({ status: "invalid" });

        const fam = await newFamily(userId, T0, 30 * DAY, 40 * DAY);
        const n1 = next(T0 + 20 * DAY); // would live until day 50
        expect((await rotate(s, fam.token, n1, T0 + 20 * DAY)).status).toBe("ok");
        expect(await rotate(s, n1.token, next(T0 + 40 * DAY), T0 + 40 * DAY)).toEqual({ status: "invalid" });
      });

      it("lets exactly one of two concurrent uses of one token win, and then revokes the family", async () => {
        const userId = await newUser();
        for (let round = 0; round < 5; round++) {
          const { token, familyId } = await newFamily(userId);
          const a = next();
          const b = next();
          const results = await Promise.all([rotate(s, token, a, T0 + 10), rotate(fx.other, token, b, T0 + 10)]);
          expect(results.map((r) => r.status).sort()).toEqual(["ok", "reused"]);
          for (const r of results) if (r.status !== "invalid") expect(r.familyId).toBe(familyId);
          // Neither new token survives: the family is gone.
          expect(await rotate(s, a.token, next(), T0 + 20)).toEqual({ status: "invalid" });
          expect(await rotate(s, b.token, next(), T0 + 20)).toEqual({ status: "invalid" });
        }
        expect(await s.countUserRefreshFamilies(userId, T0)).toBe(0);
      });

      it("revokes one family by any of its tokens, leaving the user's other families", async () => {
        const userId = await newUser();
        const one = await newFamily(userId);
        const two = await newFamily(userId);
        const n1 = next();
        await rotate(s, one.token, n1);
        expect(await s.revokeRefreshFamilyOf(hashToken(one.token))).toBe(true); // the old, rotated one
        expect(await rotate(s, n1.token, next())).toEqual({ status: "invalid" });
        expect(await s.revokeRefreshFamilyOf(hashToken(one.token))).toBe(false);
        expect((await rotate(s, two.token, next())).status).toBe("ok");
      });

      it("revokes every family of one user and no one else's", async () => {
        const userId = await newUser();
        const bystander = await newUser();
        const a = await newFamily(userId);
        const b = await newFamily(userId);
        const c = await newFamily(bystander);
        expect(await s.revokeUserRefreshFamilies(userId)).toBe(2);
        expect(await rotate(s, a.token, next())).toEqual({ status: "invalid" });
        expect(await rotate(s, b.token, next())).toEqual({ status: "invalid" });
        expect((await rotate(s, c.token, next())).status).toBe("ok");
      });
    });

    describe("reset tokens", () => {
      const newReset = async (userId: string, createdAt = T0, ttl = HOUR) => {
        const token = generateToken();
        await s.createResetToken({ tokenHash: hashToken(token), userId, createdAt, expiresAt: createdAt + ttl });
        return token;
      };

      it("are consumed once", async () => {
        const userId = await newUser();
        const token = await newReset(userId);
        expect(await s.consumeResetToken(hashToken(token), T0 + 1)).toBe(userId);
        expect(await s.consumeResetToken(hashToken(token), T0 + 2)).toBeNull();
        expect(await s.consumeResetToken(hashToken(generateToken()), T0)).toBeNull();
      });

      it("expire", async () => {
        const userId = await newUser();
        const token = await newReset(userId);
        expect(await s.consumeResetToken(hashToken(token), T0 + HOUR)).toBeNull();
      });

      it("are consumed by exactly one of many concurrent callers", async () => {
        const userId = await newUser();
        const token = await newReset(userId);
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? fx.other : s).consumeResetToken(hashToken(token), T0 + 1)),
        );
        expect(results.filter((r) => r === userId)).toHaveLength(1);
        expect(results.filter((r) => r === null)).toHaveLength(7);
      });

      it("are all removed for one user", async () => {
        const userId = await newUser();
        const a = await newReset(userId);
        const b = await newReset(userId);
        expect(await s.deleteUserResetTokens(userId)).toBe(2);
        expect(await s.consumeResetToken(hashToken(a), T0)).toBeNull();
        expect(await s.consumeResetToken(hashToken(b), T0)).toBeNull();
      });
    });

    describe("email links", () => {
      const newLink = async (userId: string, kind: "verify" | "email_change" = "verify", email = `${userId}@example.com`) => {
        const token = generateToken();
        await s.createEmailToken({ tokenHash: hashToken(token), kind, userId, email, createdAt: T0, expiresAt: T0 + HOUR });
        return token;
      };

      it("are consumed once, for their kind only, with the address they name, until they expire", async () => {
        const userId = await newUser();
        const token = await newLink(userId);
        expect(await s.consumeEmailToken(hashToken(token), "email_change", T0)).toBeNull();
        expect(await s.consumeEmailToken(hashToken(token), "verify", T0 + 1)).toEqual({ userId, email: `${userId}@example.com` });
        expect(await s.consumeEmailToken(hashToken(token), "verify", T0 + 2)).toBeNull();
        const late = await newLink(userId);
        expect(await s.consumeEmailToken(hashToken(late), "verify", T0 + HOUR)).toBeNull();
      });

      it("a newer link of one kind voids the user's older ones of that kind only, and no one else's", async () => {
        const userId = await newUser();
        const otherUser = await newUser();
        const old = await newLink(userId);
        const change = await newLink(userId, "email_change", "new@example.com");
        const theirs = await newLink(otherUser);
        const fresh = await newLink(userId);
        expect(await s.consumeEmailToken(hashToken(old), "verify", T0)).toBeNull();
        expect(await s.consumeEmailToken(hashToken(fresh), "verify", T0)).not.toBeNull();
        expect(await s.consumeEmailToken(hashToken(change), "email_change", T0)).toEqual({ userId, email: "new@example.com" });
        expect(await s.consumeEmailToken(hashToken(theirs), "verify", T0)).not.toBeNull();
      });

      it("are consumed by exactly one of many concurrent callers", async () => {
        const userId = await newUser();
        const token = await newLink(userId);
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? fx.other : s).consumeEmailToken(hashToken(token), "verify", T0)));
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      });
    });

    describe("family liveness and whole-user / whole-deployment revocation", () => {
      it("a family is live until revoked or past its absolute expiry, and only for its own user", async () => {
        const userId = await newUser();
        const { token, familyId } = await newFamily(userId, T0, 30 * DAY, 40 * DAY);
        expect(await s.isRefreshFamilyLive(familyId, userId, T0)).toBe(true);
        expect(await fx.other.isRefreshFamilyLive(familyId, userId, T0)).toBe(true);
        expect(await s.isRefreshFamilyLive(familyId, await newUser(), T0)).toBe(false);
        expect(await s.isRefreshFamilyLive(randomUUID(), userId, T0)).toBe(false);
        expect(await s.isRefreshFamilyLive(familyId, userId, T0 + 40 * DAY)).toBe(false);
        expect(await s.revokeRefreshFamilyOf(hashToken(token))).toBe(true);
        expect(await s.isRefreshFamilyLive(familyId, userId, T0)).toBe(false);
      });

      it("revokeUserCredentials ends the user's families and reset tokens, and no one else's", async () => {
        const userId = await newUser();
        const bystander = await newUser();
        const a = await newFamily(userId);
        const b = await newFamily(userId);
        const c = await newFamily(bystander);
        const reset = generateToken();
        const otherReset = generateToken();
        await s.createResetToken({ tokenHash: hashToken(reset), userId, createdAt: T0, expiresAt: T0 + HOUR });
        await s.createResetToken({ tokenHash: hashToken(otherReset), userId: bystander, createdAt: T0, expiresAt: T0 + HOUR });
        expect(await s.revokeUserCredentials(userId)).toBe(2);
        expect(await s.isRefreshFamilyLive(a.familyId, userId, T0)).toBe(false);
        expect(await s.isRefreshFamilyLive(b.familyId, userId, T0)).toBe(false);
        expect(await rotate(s, a.token, next())).toEqual({ status: "invalid" });
        expect(await s.consumeResetToken(hashToken(reset), T0 + 1)).toBeNull();
        expect(await s.isRefreshFamilyLive(c.familyId, bystander, T0)).toBe(true);
        expect(await s.consumeResetToken(hashToken(otherReset), T0 + 1)).toBe(bystander);
        expect(await s.revokeUserCredentials(userId)).toBe(0);
      });

      it("revokeAllCredentials ends every family and reset token of every user; new ones work after", async () => {
        const users = [await newUser(), await newUser()];
        const families = [await newFamily(users[0]!), await newFamily(users[1]!), await newFamily(users[1]!)];
        const reset = generateToken();
        await s.createResetToken({ tokenHash: hashToken(reset), userId: users[0]!, createdAt: T0, expiresAt: T0 + HOUR });
        expect(await s.revokeAllCredentials()).toBeGreaterThanOrEqual(3); // other tests' families too
        for (const [i, f] of families.entries()) {
          expect(await s.isRefreshFamilyLive(f.familyId, users[Math.min(i, 1)]!, T0)).toBe(false);
          expect(await rotate(s, f.token, next())).toEqual({ status: "invalid" });
        }
        expect(await s.consumeResetToken(hashToken(reset), T0 + 1)).toBeNull();
        expect(await s.revokeAllCredentials()).toBe(0);
        const fresh = await newFamily(users[0]!);
        expect((await rotate(s, fresh.token, next())).status).toBe("ok");
      });

      it("a revocation racing a client that rotates in a loop succeeds every time and ends the family", async () => {
        // On PostgreSQL, rotation used to lock the token row before the family row,
        // the reverse of a revocation's cascade: the two deadlocked and one was aborted.
        const userId = await newUser();
        for (let round = 0; round < 20; round++) {
          const first = await newFamily(userId);
          let held = first.token;
          let stop = false;
          const loop = (async () => {
            for (let i = 0; i < 1000 && !stop; i++) {
              const n = next();
              const r = await rotate(s, held, n, T0 + 1);
              if (r.status !== "ok") return r.status;
              held = n.token;
            }
            return "stopped";
          })();
          await rotate(s, generateToken(), next()); // let the loop get going
          const revoke = [
            () => fx.other.revokeUserCredentials(userId),
            () => fx.other.revokeRefreshFamilyOf(hashToken(first.token)),
            () => fx.other.revokeUserRefreshFamilies(userId),
          ][round % 3]!;
          await expect(revoke()).resolves.toBeDefined();
          stop = true;
          expect(await loop).not.toBe("reused");
          expect(await rotate(s, held, next(), T0 + 2)).toEqual({ status: "invalid" });
          expect(await s.isRefreshFamilyLive(first.familyId, userId, T0)).toBe(false);
        }
      });
    });

    describe("settings", () => {
      it("keep the first value written, also under a race", async () => {
        const key = `k-${randomUUID()}`;
        expect(await s.getSetting(key)).toBeNull();
        const winners = await Promise.all([s.setSettingIfAbsent(key, "a"), fx.other.setSettingIfAbsent(key, "b")]);
        expect(winners[0]).toBe(winners[1]);
        expect(await s.getSetting(key)).toBe(winners[0]);
        expect(await s.setSettingIfAbsent(key, "c")).toBe(winners[0]);
      });
    });

    describe("pruning", () => {
      it("removes expired tokens and families and keeps live ones", async () => {
        const userId = await newUser();
        const far = T0 + 1000 * DAY;
        const live = await newFamily(userId, far, 30 * DAY, 90 * DAY);
        await newFamily(userId, T0, 1, 2);
        const deadReset = generateToken();
        await s.createResetToken({ tokenHash: hashToken(deadReset), userId, createdAt: T0, expiresAt: T0 + 1 });
        let removed = 0;
        for (let n; (n = await s.pruneTokens(far, 1000)) > 0; ) removed += n;
        expect(removed).toBeGreaterThanOrEqual(3);
        expect((await rotate(s, live.token, next(far), far + 1)).status).toBe("ok");
      });
    });
  });
}
