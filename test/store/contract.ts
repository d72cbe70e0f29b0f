// The one store contract. Every engine runs this suite unchanged:
// test/store/{sqlite,postgres,postgres-redis,sqlite-redis}.test.ts each pass
// a factory that makes a fresh, empty store and a cleanup that removes it.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionManager } from "../../src/auth/sessions.js";
import { generatePublicId, generateToken, hashToken } from "../../src/auth/tokens.js";
import type { NewEvent } from "../../src/store/event-store.js";
import { EmailTakenError, type NewUser, type SessionRow, type Store } from "../../src/store/store.js";
import { createTestClock } from "../helpers/server.js";

export interface StoreUnderTest {
  store: Store;
  /** Closes the store and removes everything it created (file, schema, key prefix). */
  cleanup(): Promise<void>;
}

/** Store settings the contract assumes; an engine that needs the idle timeout up front (Redis TTLs) gets this one. */
export const CONTRACT_IDLE_MS = 7 * 24 * 3_600_000;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SETTINGS = { idleTimeoutMs: CONTRACT_IDLE_MS, absoluteLifetimeMs: 30 * DAY, touchIntervalMs: HOUR };
const T0 = Date.UTC(2026, 0, 1);

let seq = 0;
const tag = () => `${randomBytes(3).toString("hex")}${++seq}`;

function newUser(overrides: Partial<NewUser> = {}): NewUser {
  return {
    id: randomUUID(),
    email: `u-${tag()}@example.com`,
    passwordHash: "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    role: "user",
    createdAt: T0,
    ...overrides,
  };
}

/** A session row for the contract's fixed clock (T0); shared with the engine-specific store tests. */
export function newSession(userId: string, overrides: Partial<SessionRow> = {}): SessionRow {
  return {
    id: generatePublicId(),
    tokenHash: hashToken(generateToken()),
    userId,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 30 * DAY,
    userAgent: null,
    ip: null,
    authenticatedAt: T0,
    aal: "aal1",
    impersonatorId: null,
    ...overrides,
  };
}

/** Resolves every promise and reports which fulfilled, so races can be counted. */
async function settle<T>(promises: Promise<T>[]) {
  const results = await Promise.allSettled(promises);
  return {
    values: results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : [])),
  };
}

export function storeContract(name: string, factory: () => Promise<StoreUnderTest>): void {
  describe(`store contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: Store;
    beforeAll(async () => {
      sut = await factory();
      store = sut.store;
    });
    afterAll(() => sut?.cleanup());

    const userWithSession = async (session: Partial<SessionRow> = {}) => {
      const user = await store.createUser(newUser());
      const s = newSession(user.id, session);
      await store.createSession(s);
      return { user, session: s };
    };

    describe("users", () => {
      it("creates a user and finds it by email and by id, with every field", async () => {
        const input = newUser({ role: "admin", createdAt: T0 + 5 });
        const created = await store.createUser(input);
        const expected = { ...input, updatedAt: T0 + 5, lastLoginAt: null, emailVerifiedAt: null, disabledUntil: null };
        expect(created).toEqual(expected);
        expect(await store.findUserByEmail(input.email)).toEqual(expected);
        expect(await store.findUserById(input.id)).toEqual(expected);
        expect(await store.findUserByEmail(`nobody-${tag()}@example.com`)).toBeNull();
        expect(await store.findUserById(randomUUID())).toBeNull();
      });

      it("refuses a taken email with EmailTakenError", async () => {
        const first = await store.createUser(newUser());
        await expect(store.createUser(newUser({ email: first.email }))).rejects.toBeInstanceOf(EmailTakenError);
      });

      it("lets exactly one of many concurrent sign-ups with the same email win", async () => {
        for (let round = 0; round < 5; round++) {
          const email = `race-${tag()}@example.com`;
          const { values, errors } = await settle(Array.from({ length: 8 }, () => store.createUser(newUser({ email }))));
          expect(values).toHaveLength(1);
          expect(errors).toHaveLength(7);
          for (const e of errors) expect(e).toBeInstanceOf(EmailTakenError);
          expect((await store.findUserByEmail(email))?.id).toBe(values[0]!.id);
        }
      });

      it("updates the password hash and the last login time", async () => {
        const user = await store.createUser(newUser());
        await store.setPasswordHash(user.id, "$argon2id$new", T0 + 10);
        await store.recordLogin(user.id, T0 + 20);
        const found = await store.findUserById(user.id);
        expect(found).toMatchObject({ passwordHash: "$argon2id$new", updatedAt: T0 + 10, lastLoginAt: T0 + 20 });
      });

      it("pages through users ordered by id, filtered by email prefix", async () => {
        const prefix = `page-${tag()}-`;
        const made = [];
        for (let i = 0; i < 5; i++) made.push(await store.createUser(newUser({ email: `${prefix}${i}@example.com` })));
        await store.createUser(newUser({ email: `other-${tag()}@example.com` }));
        const ids = made.map((u) => u.id).sort();

        const seen: string[] = [];
        let cursor: string | undefined;
        const pageSizes: number[] = [];
        do {
          const page = await store.listUsers({ limit: 2, cursor, emailPrefix: prefix });
          pageSizes.push(page.users.length);
          seen.push(...page.users.map((u) => u.id));
          for (const u of page.users) expect(u.email.startsWith(prefix)).toBe(true);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(pageSizes).toEqual([2, 2, 1]);
        expect(seen).toEqual(ids);
        expect((await store.listUsers({ limit: 10, emailPrefix: `${prefix}3` })).users.map((u) => u.email)).toEqual([
          `${prefix}3@example.com`,
        ]);
      });
    });

    describe("admin guard (own store: it counts every admin)", () => {
      let guarded: StoreUnderTest;
      let s: Store;
      beforeAll(async () => {
        guarded = await factory();
        s = guarded.store;
      });
      afterAll(() => guarded?.cleanup());

      const admins = async () => {
        const all = [];
        let cursor: string | undefined;
        do {
          const page = await s.listUsers({ limit: 100, cursor });
          all.push(...page.users);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all.filter((u) => u.role === "admin");
      };
      const demoteAllBut = async (keep: string) => {
        for (const a of await admins()) if (a.id !== keep) expect(await s.setUserRole(a.id, "user", T0)).toBe("ok");
      };

      it("promotes and demotes, refuses to demote the last admin, reports unknown users", async () => {
        const a = await s.createUser(newUser({ role: "admin" }));
        const b = await s.createUser(newUser());
        expect(await s.setUserRole(b.id, "admin", T0 + 1)).toBe("ok");
        expect((await s.findUserById(b.id))).toMatchObject({ role: "admin", updatedAt: T0 + 1 });
        expect(await s.setUserRole(a.id, "user", T0 + 2)).toBe("ok");
        expect(await s.setUserRole(b.id, "user", T0 + 3)).toBe("last_admin");
        expect((await s.findUserById(b.id))?.role).toBe("admin");
        expect(await s.setUserRole(randomUUID(), "user", T0)).toBe("not_found");
        expect(await s.setUserRole(randomUUID(), "admin", T0)).toBe("not_found");
        // Demoting a plain user is never blocked.
        expect(await s.setUserRole(a.id, "user", T0 + 4)).toBe("ok");
      });

      it("deletes a user with every session, refuses to delete the last admin", async () => {
        const [onlyAdmin] = await admins();
        await demoteAllBut(onlyAdmin!.id);
        expect(await s.deleteUser(onlyAdmin!.id)).toBe("last_admin");
        expect(await s.findUserById(onlyAdmin!.id)).not.toBeNull();

        const user = await s.createUser(newUser());
        const sessions = [newSession(user.id), newSession(user.id)];
        for (const x of sessions) await s.createSession(x);
        expect(await s.deleteUser(user.id)).toBe("ok");
        expect(await s.findUserById(user.id)).toBeNull();
        for (const x of sessions) {
          expect(await s.findSession(x.tokenHash)).toBeNull();
          expect(await s.touchSession(x.tokenHash, T0 + 1)).toBe(false);
        }
        expect(await s.listUserSessions(user.id)).toEqual([]);
        expect(await s.deleteUser(user.id)).toBe("not_found");
      });

      it("disables until a time and enables again; never the last admin that is not disabled, who also cannot then be demoted or deleted", async () => {
        const user = await s.createUser(newUser());
        const event = { type: "account.disabled", at: T0 + 1, details: { reason: "abuse" } };
        expect(await s.setDisabledUntil(user.id, T0 + DAY, T0 + 1, { ...event, userId: user.id })).toBe("ok");
        expect(await s.findUserById(user.id)).toMatchObject({ disabledUntil: T0 + DAY, updatedAt: T0 + 1 });
        expect(await s.findUserByEmail(user.email)).toMatchObject({ disabledUntil: T0 + DAY });
        expect(await s.setDisabledUntil(user.id, null, T0 + 2)).toBe("ok");
        expect((await s.findUserById(user.id))?.disabledUntil).toBeNull();
        expect(await s.setDisabledUntil(randomUUID(), T0 + DAY, T0)).toBe("not_found");
        expect(await s.setDisabledUntil(randomUUID(), null, T0)).toBe("not_found");
        expect((await s.events.list({ userId: user.id, limit: 10 })).events.map((e) => e.type)).toEqual(["account.disabled"]);

        const [onlyAdmin] = await admins();
        await demoteAllBut(onlyAdmin!.id);
        expect(await s.setDisabledUntil(onlyAdmin!.id, T0 + DAY, T0)).toBe("last_admin");
        const second = await s.createUser(newUser({ role: "admin" }));
        expect(await s.setDisabledUntil(second.id, T0 + DAY, T0)).toBe("ok");
        // A disabled admin is not one who can act: the other is still the last.
        expect(await s.setDisabledUntil(onlyAdmin!.id, T0 + DAY, T0)).toBe("last_admin");
        expect(await s.setUserRole(onlyAdmin!.id, "user", T0)).toBe("last_admin");
        expect(await s.deleteUser(onlyAdmin!.id)).toBe("last_admin");
        expect(await s.setDisabledUntil(second.id, null, T0)).toBe("ok");
        expect(await s.setDisabledUntil(onlyAdmin!.id, T0 + DAY, T0)).toBe("ok");
        expect(await s.setDisabledUntil(onlyAdmin!.id, null, T0)).toBe("ok");
        expect(await s.setUserRole(second.id, "user", T0)).toBe("ok");
      });

      it("never leaves zero admins when two admins demote or delete each other at once", async () => {
        for (let round = 0; round < 10; round++) {
          const other = await s.createUser(newUser({ role: "admin" }));
          await demoteAllBut(other.id); // exactly `other` is admin now
          const mine = await s.createUser(newUser({ role: "admin" }));
          const ops =
            round % 2 === 0
              ? [s.setUserRole(other.id, "user", T0), s.setUserRole(mine.id, "user", T0)]
              : [s.deleteUser(other.id), s.deleteUser(mine.id)];
          const results = (await Promise.all(round % 4 < 2 ? ops : ops.reverse())).sort();
          expect(results).toEqual(["last_admin", "ok"]);
          expect(await admins()).toHaveLength(1);
        }
      });
    });

    describe("sessions", () => {
      it("stores a session and reads it back with its user in one call", async () => {
        const user = await store.createUser(newUser());
        const plain = newSession(user.id);
        const full = newSession(user.id, {
          createdAt: T0 + 1, lastSeenAt: T0 + 2, userAgent: "curl/8.5.0", ip: "203.0.113.7", authenticatedAt: T0 + 3, aal: "aal2", impersonatorId: "admin-1",
        });
        await store.createSession(plain);
        await store.createSession(full);
        expect(await store.findSession(plain.tokenHash)).toEqual({ session: plain, user });
        expect(await store.findSession(full.tokenHash)).toEqual({ session: full, user });
        expect(await store.listUserSessions(user.id)).toEqual([full, plain]);
        expect(await store.findSession(hashToken(generateToken()))).toBeNull();
      });

      it("touches only an existing session", async () => {
        const { session } = await userWithSession();
        expect(await store.touchSession(session.tokenHash, T0 + HOUR)).toBe(true);
        expect((await store.findSession(session.tokenHash))?.session.lastSeenAt).toBe(T0 + HOUR);
        const unknown = hashToken(generateToken());
        expect(await store.touchSession(unknown, T0)).toBe(false);
        expect(await store.findSession(unknown)).toBeNull();
      });

      it("deletes a session: gone for reads and touches, and deleting again is harmless", async () => {
        const { session } = await userWithSession();
        await store.deleteSession(session.tokenHash);
        expect(await store.findSession(session.tokenHash)).toBeNull();
        expect(await store.touchSession(session.tokenHash, T0 + HOUR)).toBe(false);
        expect(await store.findSession(session.tokenHash)).toBeNull();
        await store.deleteSession(session.tokenHash);
      });

      it("lists a user's sessions newest first, and deletes one only for its owner", async () => {
        const { user, session: older } = await userWithSession({ createdAt: T0 });
        const newer = newSession(user.id, { createdAt: T0 + 5 });
        await store.createSession(newer);
        const { session: stranger } = await userWithSession();
        expect((await store.listUserSessions(user.id)).map((x) => x.id)).toEqual([newer.id, older.id]);
        expect(await store.listUserSessions(user.id)).toEqual([newer, older]);

        expect(await store.deleteUserSession(user.id, stranger.id)).toBe(false);
        expect(await store.findSession(stranger.tokenHash)).not.toBeNull();
        expect(await store.deleteUserSession(user.id, older.id)).toBe(true);
        expect(await store.deleteUserSession(user.id, older.id)).toBe(false);
        expect(await store.findSession(older.tokenHash)).toBeNull();
        expect((await store.listUserSessions(user.id)).map((x) => x.id)).toEqual([newer.id]);
      });

      it("revokes every session of a user, or all but one, leaving other users alone", async () => {
        const { user, session: a } = await userWithSession();
        const b = newSession(user.id);
        const c = newSession(user.id);
        await store.createSession(b);
        await store.createSession(c);
        const { session: other } = await userWithSession();

        expect(await store.deleteUserSessions(user.id, b.tokenHash)).toBe(2);
        expect(await store.findSession(a.tokenHash)).toBeNull();
        expect(await store.findSession(c.tokenHash)).toBeNull();
        expect(await store.findSession(b.tokenHash)).not.toBeNull();
        expect(await store.deleteUserSessions(user.id)).toBe(1);
        expect(await store.findSession(b.tokenHash)).toBeNull();
        expect(await store.listUserSessions(user.id)).toEqual([]);
        expect(await store.findSession(other.tokenHash)).not.toBeNull();
        expect(await store.deleteUserSessions(user.id)).toBe(0);
      });

      it("deletion beats concurrent touches: a revoked session never comes back", async () => {
        const user = await store.createUser(newUser());
        for (let i = 0; i < 40; i++) {
          const s = newSession(user.id);
          await store.createSession(s);
          const touch = () => store.touchSession(s.tokenHash, T0 + i + 1);
          const del = i % 2 === 0 ? () => store.deleteSession(s.tokenHash) : () => store.deleteUserSessions(user.id);
          // Vary where the delete falls among the touches.
          const order = i % 4;
          const ops: Promise<unknown>[] = [];
          for (let j = 0; j < 4; j++) {
            if (j === order) ops.push(del());
            ops.push(touch());
          }
          await Promise.all(ops);
          expect(await store.findSession(s.tokenHash)).toBeNull();
          expect(await store.touchSession(s.tokenHash, T0 + 100)).toBe(false);
          expect(await store.findSession(s.tokenHash)).toBeNull();
        }
        expect(await store.listUserSessions(user.id)).toEqual([]);
      });

      it("prunes sessions past either expiry, in bounded batches, and keeps live ones", async () => {
        const now = T0 + 100 * DAY;
        const user = await store.createUser(newUser());
        const live = newSession(user.id, { createdAt: now - HOUR, lastSeenAt: now - HOUR, expiresAt: now + DAY });
        await store.createSession(live);
        // Everything else in this store was created around T0 and is past its idle timeout at `now`.
        let removed = 0;
        let batch: number;
        do {
          batch = await store.pruneSessions(now, CONTRACT_IDLE_MS, 3);
          expect(batch).toBeLessThanOrEqual(3);
          removed += batch;
        } while (batch === 3);
        expect(await store.pruneSessions(now, CONTRACT_IDLE_MS, 3)).toBe(0);
        expect(await store.findSession(live.tokenHash)).not.toBeNull();

        const idle = newSession(user.id, { createdAt: now - 8 * DAY, lastSeenAt: now - 8 * DAY, expiresAt: now + DAY });
        const old = newSession(user.id, { createdAt: now - 31 * DAY, lastSeenAt: now - HOUR, expiresAt: now - 1 });
        await store.createSession(idle);
        await store.createSession(old);
        expect(await store.pruneSessions(now, CONTRACT_IDLE_MS, 1)).toBe(1);
        expect(await store.pruneSessions(now, CONTRACT_IDLE_MS, 10)).toBe(1);
        expect(await store.findSession(idle.tokenHash)).toBeNull();
        expect(await store.findSession(old.tokenHash)).toBeNull();
        expect(await store.findSession(live.tokenHash)).not.toBeNull();
        expect((await store.listUserSessions(user.id)).map((x) => x.id)).toEqual([live.id]);
      });

      it("deletes every session of every user, in as many batches as it takes; new sessions work after", async () => {
        const users = [await store.createUser(newUser()), await store.createUser(newUser()), await store.createUser(newUser())];
        const sessions = Array.from({ length: 1100 }, (_, i) => newSession(users[i % 3]!.id));
        for (let i = 0; i < sessions.length; i += 100) await Promise.all(sessions.slice(i, i + 100).map((x) => store.createSession(x)));
        expect(await store.deleteAllSessions()).toBeGreaterThanOrEqual(1100); // earlier tests' sessions too
        for (const x of [sessions[0]!, sessions[549]!, sessions[1099]!]) {
          expect(await store.findSession(x.tokenHash)).toBeNull();
          expect(await store.touchSession(x.tokenHash, T0 + 1)).toBe(false);
        }
        for (const u of users) expect(await store.listUserSessions(u.id)).toEqual([]);
        expect(await store.pruneSessions(T0 + 1000 * DAY, CONTRACT_IDLE_MS, 10_000)).toBe(0); // no index entry left behind
        expect(await store.deleteAllSessions()).toBe(0);
        const { session } = await userWithSession();
        expect(await store.findSession(session.tokenHash)).not.toBeNull();
        expect(await store.deleteUserSessions(session.userId)).toBe(1);
      });
    });

    describe("session lifetimes through the SessionManager (test clock)", () => {
      it("ends a session after the idle timeout and deletes it on sight", async () => {
        const clock = createTestClock(T0 + 200 * DAY);
        const sessions = createSessionManager(store, SETTINGS, clock);
        const user = await store.createUser(newUser());
        const { token, session } = await sessions.create(user.id, { userAgent: "vitest", ip: "127.0.0.1" });
        clock.advance(SETTINGS.idleTimeoutMs - 1);
        expect((await sessions.validate(token))?.user.id).toBe(user.id);
        // That validate touched the session: idle time counts from now.
        clock.advance(SETTINGS.idleTimeoutMs - 1);
        expect(await sessions.validate(token)).not.toBeNull();
        clock.advance(SETTINGS.idleTimeoutMs);
        expect(await sessions.validate(token)).toBeNull();
        expect(await store.findSession(session.tokenHash)).toBeNull();
      });

      it("ends a session at its absolute lifetime however active it is", async () => {
        const clock = createTestClock(T0 + 300 * DAY);
        const sessions = createSessionManager(store, SETTINGS, clock);
        const user = await store.createUser(newUser());
        const { token } = await sessions.create(user.id);
        for (let day = 0; day < 29; day++) {
          clock.advance(DAY);
          expect(await sessions.validate(token)).not.toBeNull();
        }
        clock.advance(DAY);
        expect(await sessions.validate(token)).toBeNull();
      });

      it("writes last-seen at most once per touch interval", async () => {
        const clock = createTestClock(T0 + 400 * DAY);
        const sessions = createSessionManager(store, SETTINGS, clock);
        const user = await store.createUser(newUser());
        const { token, session } = await sessions.create(user.id);
        const lastSeen = async () => (await store.findSession(session.tokenHash))!.session.lastSeenAt;
        clock.advance(HOUR - 1);
        await sessions.validate(token);
        expect(await lastSeen()).toBe(session.createdAt);
        clock.advance(1);
        await sessions.validate(token);
        expect(await lastSeen()).toBe(session.createdAt + HOUR);
      });

      it("revoke and deleteUserSessions end sessions for good", async () => {
        const clock = createTestClock(T0 + 500 * DAY);
        const sessions = createSessionManager(store, SETTINGS, clock);
        const user = await store.createUser(newUser());
        const a = await sessions.create(user.id);
        const b = await sessions.create(user.id);
        const c = await sessions.create(user.id);
        await sessions.revoke(a.token);
        expect(await sessions.validate(a.token)).toBeNull();
        expect(await sessions.validate(b.token)).not.toBeNull();
        expect(await store.deleteUserSessions(user.id)).toBe(2);
        clock.advance(2 * HOUR); // a touch would be due: it must not bring anything back
        expect(await sessions.validate(b.token)).toBeNull();
        expect(await sessions.validate(c.token)).toBeNull();
      });

      it("prune() sweeps expired sessions and leaves live ones", async () => {
        const clock = createTestClock(T0 + 600 * DAY);
        const sessions = createSessionManager(store, SETTINGS, clock);
        const user = await store.createUser(newUser());
        const old = await sessions.create(user.id);
        clock.advance(8 * DAY);
        const fresh = await sessions.create(user.id);
        expect(await sessions.prune(2)).toBeGreaterThanOrEqual(1);
        expect(await store.findSession(old.session.tokenHash)).toBeNull();
        expect(await sessions.validate(fresh.token)).not.toBeNull();
      });
    });

    describe("counters", () => {
      const WINDOW = 15 * 60_000;

      it("counts hits in a fixed window and starts again when it ends", async () => {
        const key = `login:${tag()}`;
        expect(await store.peekCounter(key, T0)).toBeNull();
        expect(await store.hitCounter(key, WINDOW, T0)).toEqual({ count: 1, resetAt: T0 + WINDOW });
        expect(await store.hitCounter(key, WINDOW, T0 + 1000)).toEqual({ count: 2, resetAt: T0 + WINDOW });
        expect(await store.peekCounter(key, T0 + 2000)).toEqual({ count: 2, resetAt: T0 + WINDOW });
        expect(await store.peekCounter(key, T0 + WINDOW)).toBeNull();
        expect(await store.hitCounter(key, WINDOW, T0 + WINDOW)).toEqual({ count: 1, resetAt: T0 + 2 * WINDOW });
        await store.deleteCounter(key);
        expect(await store.peekCounter(key, T0 + WINDOW)).toBeNull();
        expect((await store.hitCounter(key, WINDOW, T0 + WINDOW)).count).toBe(1);
      });

      it("loses no hit under concurrency", async () => {
        const key = `burst:${tag()}`;
        const results = await Promise.all(Array.from({ length: 60 }, () => store.hitCounter(key, WINDOW, T0)));
        expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
        expect(await store.peekCounter(key, T0)).toEqual({ count: 60, resetAt: T0 + WINDOW });
      });

      it("keeps counters apart by key", async () => {
        const a = `a:${tag()}`;
        const b = `b:${tag()}`;
        await store.hitCounter(a, WINDOW, T0);
        await store.hitCounter(a, WINDOW, T0);
        expect((await store.hitCounter(b, WINDOW, T0)).count).toBe(1);
        expect((await store.peekCounter(a, T0))?.count).toBe(2);
      });

      it("prunes ended windows and keeps live counters", async () => {
        const ended = `ended:${tag()}`;
        const live = `live:${tag()}`;
        await store.hitCounter(ended, 1000, T0);
        await store.hitCounter(live, 10 * WINDOW, T0);
        await store.hitCounter(live, 10 * WINDOW, T0);
        let n: number;
        do n = await store.pruneCounters(T0 + 5000, 2);
        while (n === 2);
        expect(await store.peekCounter(ended, T0 + 5000)).toBeNull();
        expect(await store.peekCounter(live, T0 + 5000)).toEqual({ count: 2, resetAt: T0 + 10 * WINDOW });
        expect((await store.hitCounter(ended, 1000, T0 + 5000)).count).toBe(1);
        expect((await store.hitCounter(live, 10 * WINDOW, T0 + 5000)).count).toBe(3);
      });
    });

    describe("events (each written with its change, or not at all)", () => {
      const ev = (type: string, extra: Partial<NewEvent> = {}): NewEvent => ({ type, at: T0, ip: "192.0.2.7", userAgent: "contract", ...extra });
      const eventsOf = async (userId: string) => (await store.events.list({ userId, limit: 100 })).events;
      /** An event the store cannot write (NOT NULL type): the change it rides on must not happen either. */
      const unwritable = { type: null as unknown as string, at: T0 };

      it("each write records its event once, with every field, newest first", async () => {
        const user = newUser();
        await store.createUser(user, ev("signup", { userId: user.id, details: { role: "user" } }));
        await store.recordLogin(user.id, T0 + 1, ev("login.success", { userId: user.id, sessionId: "s-1", at: T0 + 1 }));
        await store.setPasswordHash(user.id, "$argon2id$new", T0 + 2, ev("password.changed", { userId: user.id, at: T0 + 2 }));
        await store.setUserRole(user.id, "admin", T0 + 3, ev("role.changed", { userId: user.id, at: T0 + 3, actorId: "admin-1", details: { from: "user", to: "admin" } }));
        const events = await eventsOf(user.id);
        expect(events.map((e) => e.type)).toEqual(["role.changed", "password.changed", "login.success", "signup"]);
        expect(events[0]).toMatchObject({ userId: user.id, actorId: "admin-1", at: T0 + 3, ip: "192.0.2.7", userAgent: "contract", details: { from: "user", to: "admin" } });
        expect(events[2]).toMatchObject({ sessionId: "s-1", actorId: null, details: {} });
        expect(new Set(events.map((e) => e.id)).size).toBe(4);
        expect((await store.findUserById(user.id))?.passwordHash).toBe("$argon2id$new");
      });

      it("session deletions fill in the session's user and public id, and record nothing when there was no session", async () => {
        const { user, session } = await userWithSession();
        await store.deleteSession(hashToken(generateToken()), ev("logout")); // unknown: nothing
        await store.deleteUserSession(user.id, "no-such-id", ev("session.revoked", { userId: user.id }));
        expect(await eventsOf(user.id)).toEqual([]);
        await store.deleteSession(session.tokenHash, ev("logout", { details: { client: "cookie" } }));
        expect(await eventsOf(user.id)).toMatchObject([{ type: "logout", userId: user.id, sessionId: session.id, details: { client: "cookie" } }]);
        const other = newSession(user.id);
        await store.createSession(other);
        expect(await store.deleteUserSession(user.id, other.id, ev("session.revoked", { userId: user.id, sessionId: other.id }))).toBe(true);
        expect(await store.deleteUserSessions(user.id, undefined, ev("sessions.revoked", { userId: user.id, details: { scope: "all" } }))).toBe(0);
        expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(["sessions.revoked", "session.revoked", "logout"]);
      });

      it("a refused change records nothing (unknown user, last admin)", async () => {
        const admin = await store.createUser(newUser({ role: "admin" }));
        expect(await store.deleteUser(randomUUID(), ev("account.deleted"))).toBe("not_found");
        expect(await store.setUserRole(randomUUID(), "admin", T0, ev("role.changed"))).toBe("not_found");
        // Whether it is the last admin depends on the other tests' admins: only "no event unless ok" is checked.
        const result = await store.setUserRole(admin.id, "user", T0, ev("role.changed", { userId: admin.id }));
        expect((await eventsOf(admin.id)).length).toBe(result === "ok" ? 1 : 0);
      });

      it("a change whose event cannot be written does not happen", async () => {
        const { user, session } = await userWithSession();
        await expect(store.setPasswordHash(user.id, "$argon2id$lost", T0, unwritable)).rejects.toThrow();
        expect((await store.findUserById(user.id))?.passwordHash).toBe(user.passwordHash);
        const lost = newUser();
        await expect(store.createUser(lost, { ...unwritable, userId: lost.id })).rejects.toThrow();
        expect(await store.findUserById(lost.id)).toBeNull();
        await expect(store.deleteUserSessions(user.id, undefined, unwritable)).rejects.toThrow();
        await expect(store.deleteSession(session.tokenHash, unwritable)).rejects.toThrow();
        expect((await store.findSession(session.tokenHash))?.session.id).toBe(session.id);
        await expect(store.deleteUser(user.id, unwritable)).rejects.toThrow();
        expect(await store.findUserById(user.id)).not.toBeNull();
      });

      it("marks an address verified only while it is still the account's, with its event", async () => {
        const user = await store.createUser(newUser());
        expect(await store.markEmailVerified(user.id, "someone-else@example.com", T0 + 1, ev("email.verified", { userId: user.id }))).toBe(false);
        expect((await store.findUserById(user.id))?.emailVerifiedAt).toBeNull();
        expect(await eventsOf(user.id)).toEqual([]);
        expect(await store.markEmailVerified(user.id, user.email, T0 + 2, ev("email.verified", { userId: user.id }))).toBe(true);
        expect((await store.findUserById(user.id))?.emailVerifiedAt).toBe(T0 + 2);
        expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(["email.verified"]);
        const vouched = await store.createUser(newUser({ emailVerifiedAt: T0 }));
        expect((await store.findUserByEmail(vouched.email))?.emailVerifiedAt).toBe(T0);
      });

      it("an account's events outlive it", async () => {
        const user = await store.createUser(newUser());
        await store.deleteUser(user.id, ev("account.deleted", { userId: user.id }));
        expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(["account.deleted"]);
      });

      it("lists by type and time, and pages with a cursor", async () => {
        const user = await store.createUser(newUser());
        for (let i = 0; i < 5; i++) await store.events.append(ev(i % 2 ? "login.failure" : "login.success", { userId: user.id, at: T0 + i }));
        const first = await store.events.list({ userId: user.id, limit: 2 });
        expect(first.events.map((e) => e.at)).toEqual([T0 + 4, T0 + 3]);
        const second = await store.events.list({ userId: user.id, limit: 2, cursor: first.nextCursor! });
        expect(second.events.map((e) => e.at)).toEqual([T0 + 2, T0 + 1]);
        const last = await store.events.list({ userId: user.id, limit: 2, cursor: second.nextCursor! });
        expect(last).toMatchObject({ events: [{ at: T0 }], nextCursor: null });
        const failures = await store.events.list({ userId: user.id, types: ["login.failure"], limit: 10 });
        expect(failures.events.map((e) => e.at)).toEqual([T0 + 3, T0 + 1]);
        const window = await store.events.list({ userId: user.id, since: T0 + 1, until: T0 + 3, limit: 10 });
        expect(window.events.map((e) => e.at)).toEqual([T0 + 2, T0 + 1]);
        await store.events.append(ev("login.success", { userId: user.id, at: T0 + 9, userAgent: "Other/1.0" }));
        const byAgent = await store.events.list({ userId: user.id, userAgent: "Other/1.0", limit: 10 });
        expect(byAgent.events.map((e) => e.at)).toEqual([T0 + 9]);
      });

      it("prune deletes old events in bounded batches and keeps recent ones", async () => {
        const user = await store.createUser(newUser());
        const OLD = T0 - 400 * DAY; // older than anything the other tests write
        for (let i = 0; i < 3; i++) await store.events.append(ev("login.success", { userId: user.id, at: OLD + i }));
        await store.events.append(ev("login.success", { userId: user.id, at: T0 }));
        let removed = 0;
        let n: number;
        do {
          n = await store.events.prune(OLD + 10, 2);
          expect(n).toBeLessThanOrEqual(2);
          removed += n;
        } while (n === 2);
        expect(removed).toBe(3);
        expect((await eventsOf(user.id)).map((e) => e.at)).toEqual([T0]);
      });
    });
  });
}

