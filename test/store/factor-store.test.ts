// The FactorStore contract (second factors: TOTP authenticators, recovery
// codes, two-step login challenges), run unchanged on every engine as
// openStore() builds them: SQLite and SQLite+Redis (two connections to one
// file), PostgreSQL and PostgreSQL+Redis (two instances on one schema). The races are run
// between the two handles, as two server instances would.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateToken, hashToken } from "../../src/auth/tokens.js";
import type { FactorStore } from "../../src/store/factor-store.js";
import { servicesAvailable } from "../helpers/services.js";
import { twoInstances, type TwoInstances } from "./two-instances.js";

type Fixture = TwoInstances;

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const codes = (n: number) => Array.from({ length: n }, () => hashToken(generateToken()));
const event = (type: string) => ({ type, at: T0, ip: "192.0.2.9" });

function factorStoreContract(engine: string, open: () => Promise<Fixture>) {
  describe(`FactorStore contract: ${engine}`, () => {
    let fx: Fixture;
    let s: FactorStore;
    let other: FactorStore;
    beforeAll(async () => {
      fx = await open();
      s = fx.a.factors;
      other = fx.b.factors;
    });
    afterAll(() => fx?.close());

    const newUser = async () => {
      const id = randomUUID();
      await fx.a.createUser({ id, email: `${id}@example.com`, passwordHash: "x", role: "user", createdAt: T0 });
      return id;
    };
    const enabled = async (step = 100, hashes = codes(10)) => {
      const user = await newUser();
      expect(await s.putPendingTotp(user, "v1.sealed.secret", T0)).toBe(true);
      expect(await s.enableTotp(user, step, hashes, T0 + MIN)).toBe(true);
      return { user, hashes };
    };
    const eventTypes = async (userId: string) => (await fx.a.events.list({ userId, limit: 50 })).events.map((e) => e.type).sort();

    it("keeps a pending secret until it is enabled; a new setup replaces a pending one but never an enabled one", async () => {
      const user = await newUser();
      expect(await s.getTotp(user)).toBeNull();
      expect(await s.anySealedSecret()).toBeNull(); // the first test: nothing stored yet
      expect(await s.putPendingTotp(user, "v1.first", T0)).toBe(true);
      expect(await other.anySealedSecret()).toBe("v1.first");
      expect(await s.getTotp(user)).toEqual({ userId: user, secretSealed: "v1.first", createdAt: T0, enabledAt: null, lastUsedStep: null });
      expect(await s.putPendingTotp(user, "v1.second", T0 + MIN)).toBe(true);
      expect(await other.getTotp(user)).toMatchObject({ secretSealed: "v1.second", createdAt: T0 + MIN, enabledAt: null });

      expect(await s.enableTotp(user, 4242, codes(10), T0 + 2 * MIN, { ...event("mfa.totp_enabled"), userId: user })).toBe(true);
      expect(await s.getTotp(user)).toEqual({ userId: user, secretSealed: "v1.second", createdAt: T0 + MIN, enabledAt: T0 + 2 * MIN, lastUsedStep: 4242 });
      expect(await s.countRecoveryCodes(user)).toBe(10);
      expect(await eventTypes(user)).toEqual(["mfa.totp_enabled"]);

      expect(await s.putPendingTotp(user, "v1.attacker", T0 + 3 * MIN)).toBe(false);
      expect(await s.enableTotp(user, 5000, codes(10), T0 + 3 * MIN)).toBe(false);
      expect(await s.getTotp(user)).toMatchObject({ secretSealed: "v1.second", lastUsedStep: 4242 });
      expect(await s.enableTotp(await newUser(), 1, codes(10), T0)).toBe(false); // nothing pending
    });

    it("accepts each time step once, only later ones, and only on an enabled authenticator", async () => {
      const { user } = await enabled(100);
      expect(await s.useTotpStep(user, 100)).toBe(false); // the step that enabled it
      expect(await s.useTotpStep(user, 99)).toBe(false);
      expect(await s.useTotpStep(user, 101)).toBe(true);
      expect(await other.useTotpStep(user, 101)).toBe(false);
      expect(await s.useTotpStep(user, 103)).toBe(true);
      expect(await s.useTotpStep(user, 102)).toBe(false);
      expect((await s.getTotp(user))?.lastUsedStep).toBe(103);

      const pending = await newUser();
      await s.putPendingTotp(pending, "v1.p", T0);
      expect(await s.useTotpStep(pending, 1)).toBe(false);
      expect(await s.useTotpStep(await newUser(), 1)).toBe(false);
    });

    it("lets exactly one of two instances use one code, enable one setup, or spend one recovery code", async () => {
      for (let round = 0; round < 10; round++) {
        const { user, hashes } = await enabled(100);
        const steps = await Promise.all([s.useTotpStep(user, 101), other.useTotpStep(user, 101)]);
        expect(steps.filter(Boolean)).toHaveLength(1);
        const spent = await Promise.all([s.useRecoveryCode(user, hashes[0]!, T0), other.useRecoveryCode(user, hashes[0]!, T0)]);
        expect(spent.filter(Boolean)).toHaveLength(1);

        const racer = await newUser();
        await s.putPendingTotp(racer, "v1.race", T0);
        const enables = await Promise.all([s.enableTotp(racer, 7, codes(10), T0), other.enableTotp(racer, 7, codes(10), T0)]);
        expect(enables.filter(Boolean)).toHaveLength(1);
        expect(await s.countRecoveryCodes(racer)).toBe(10);
      }
    });

    it("spends a recovery code once, only for its own account; regenerating voids the old ones", async () => {
      const { user, hashes } = await enabled();
      const stranger = await enabled();
      expect(await s.useRecoveryCode(stranger.user, hashes[1]!, T0)).toBe(false);
      expect(await s.useRecoveryCode(user, hashToken(generateToken()), T0)).toBe(false);
      expect(await s.useRecoveryCode(user, hashes[1]!, T0, { ...event("mfa.recovery_code_used"), userId: user })).toBe(true);
      expect(await s.useRecoveryCode(user, hashes[1]!, T0)).toBe(false);
      expect(await s.countRecoveryCodes(user)).toBe(9);

      const fresh = codes(10);
      await s.replaceRecoveryCodes(user, fresh, T0 + MIN, { ...event("mfa.recovery_codes_regenerated"), userId: user });
      expect(await s.countRecoveryCodes(user)).toBe(10);
      expect(await s.useRecoveryCode(user, hashes[2]!, T0)).toBe(false);
      expect(await other.useRecoveryCode(user, fresh[2]!, T0)).toBe(true);
      expect(await s.countRecoveryCodes(stranger.user)).toBe(10);
      expect(await eventTypes(user)).toEqual(["mfa.recovery_code_used", "mfa.recovery_codes_regenerated"]);
    });

    it("removes an authenticator with its recovery codes and its event; removing none is false and records nothing", async () => {
      const { user, hashes } = await enabled();
      expect(await s.removeTotp(user, { ...event("mfa.totp_disabled"), userId: user })).toBe(true);
      expect(await s.getTotp(user)).toBeNull();
      expect(await s.countRecoveryCodes(user)).toBe(0);
      expect(await s.useRecoveryCode(user, hashes[0]!, T0)).toBe(false);
      expect(await s.removeTotp(user, { ...event("mfa.totp_disabled"), userId: user })).toBe(false);
      expect(await eventTypes(user)).toEqual(["mfa.totp_disabled"]);
      // Enrolling again starts from nothing.
      expect(await s.putPendingTotp(user, "v1.again", T0)).toBe(true);
      expect(await s.enableTotp(user, 1, codes(10), T0)).toBe(true);
    });

    it("finds a live challenge of its kind without spending it, spends it once, and never an expired one", async () => {
      const user = await newUser();
      const hash = hashToken(generateToken());
      await s.createChallenge({ tokenHash: hash, kind: "cookie", userId: user, createdAt: T0, expiresAt: T0 + 5 * MIN });
      expect(await s.findChallenge(hash, "cookie", T0 + MIN)).toBe(user);
      expect(await other.findChallenge(hash, "cookie", T0 + MIN)).toBe(user); // a mistyped code can be retried
      expect(await s.findChallenge(hash, "bearer", T0 + MIN)).toBeNull();
      expect(await s.consumeChallenge(hash, "bearer", T0 + MIN)).toBe(false);
      expect(await s.findChallenge(hash, "cookie", T0 + 5 * MIN)).toBeNull();
      expect(await s.consumeChallenge(hash, "cookie", T0 + 5 * MIN)).toBe(false);
      const spent = await Promise.all([s.consumeChallenge(hash, "cookie", T0 + MIN), other.consumeChallenge(hash, "cookie", T0 + MIN)]);
      expect(spent.filter(Boolean)).toHaveLength(1);
      expect(await s.findChallenge(hash, "cookie", T0 + MIN)).toBeNull();
    });

    it("ends a user's challenges on demand, prunes expired ones, and deleting the user removes every factor row", async () => {
      const user = await newUser();
      const live = [hashToken(generateToken()), hashToken(generateToken())];
      for (const tokenHash of live) await s.createChallenge({ tokenHash, kind: "bearer", userId: user, createdAt: T0, expiresAt: T0 + 5 * MIN });
      expect(await s.deleteUserChallenges(user)).toBe(2);
      expect(await s.findChallenge(live[0]!, "bearer", T0)).toBeNull();

      const old = hashToken(generateToken());
      await s.createChallenge({ tokenHash: old, kind: "cookie", userId: user, createdAt: T0, expiresAt: T0 + MIN });
      const kept = hashToken(generateToken());
      await s.createChallenge({ tokenHash: kept, kind: "cookie", userId: user, createdAt: T0, expiresAt: T0 + 10 * MIN });
      let pruned = 0;
      for (let n; (n = await s.pruneChallenges(T0 + 2 * MIN, 100)) > 0; ) pruned += n;
      expect(pruned).toBeGreaterThanOrEqual(1);
      expect(await s.findChallenge(kept, "cookie", T0 + 2 * MIN)).toBe(user);

      const { user: doomed, hashes } = await enabled();
      const challenge = hashToken(generateToken());
      await s.createChallenge({ tokenHash: challenge, kind: "cookie", userId: doomed, createdAt: T0, expiresAt: T0 + 5 * MIN });
      expect(await fx.a.deleteUser(doomed)).toBe("ok");
      expect(await s.getTotp(doomed)).toBeNull();
      expect(await s.countRecoveryCodes(doomed)).toBe(0);
      expect(await s.useRecoveryCode(doomed, hashes[0]!, T0)).toBe(false);
      expect(await s.findChallenge(challenge, "cookie", T0)).toBeNull();
    });
  });
}

const pgUp = await servicesAvailable(["postgres"], "FactorStore on PostgreSQL");
const redisUp = await servicesAvailable(["redis"], "FactorStore with Redis");

factorStoreContract("sqlite", () => twoInstances("sqlite", false));
describe.skipIf(!redisUp)("sqlite+redis", () => factorStoreContract("sqlite+redis", () => twoInstances("sqlite", true)));

describe.skipIf(!pgUp)("postgres", () => factorStoreContract("postgres", () => twoInstances("postgres", false)));
describe.skipIf(!pgUp || !redisUp)("postgres+redis", () => factorStoreContract("postgres+redis", () => twoInstances("postgres", true)));
