import { describe, expect, it } from "vitest";
import { createLimiter, createPasswordHasher, PasswordHasherBusyError } from "../../src/auth/passwords.js";

const DEFAULTS = { memoryCost: 19456, timeCost: 2, parallelism: 1, concurrency: 2 };

describe("password hashing", () => {
  const hasher = createPasswordHasher(DEFAULTS);

  it("makes Argon2id PHC strings with the configured parameters and a fresh salt", async () => {
    const a = await hasher.hash("correct horse battery staple");
    const b = await hasher.hash("correct horse battery staple");
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
  });

  it("verifies exactly as received: no trimming, no case folding, no truncation", async () => {
    const pw = " Pässwörd with spaces " + "x".repeat(900);
    const stored = await hasher.hash(pw);
    expect(await hasher.verify(stored, pw)).toBe(true);
    expect(await hasher.verify(stored, pw.trim())).toBe(false);
    expect(await hasher.verify(stored, pw.toLowerCase())).toBe(false);
    expect(await hasher.verify(stored, pw.slice(0, -1))).toBe(false);
    expect(await hasher.verify(stored, pw.normalize("NFD"))).toBe(false);
  });

  it("never verifies against a malformed stored hash", async () => {
    expect(await hasher.verify("not a hash", "whatever")).toBe(false);
  });

  it("asks for a rehash when the stored parameters differ from the configured ones", async () => {
    const weak = createPasswordHasher({ ...DEFAULTS, memoryCost: 1024, timeCost: 1 });
    expect(hasher.needsRehash(await weak.hash("password123"))).toBe(true);
    expect(hasher.needsRehash(await hasher.hash("password123"))).toBe(false);
    expect(hasher.needsRehash("garbage")).toBe(true);
  });

  it("burns a real verify for unknown accounts", async () => {
    expect(await hasher.verifyDummy("anything")).toBe(false);
  });
});

describe("the hashing queue", () => {
  it("runs at most `concurrency` tasks and refuses past `maxQueue`", async () => {
    const limiter = createLimiter(1, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: number[] = [];
    const first = limiter.run(async () => {
      await gate;
      order.push(1);
    });
    const second = limiter.run(async () => void order.push(2));
    expect(limiter.queued).toBe(1);
    await expect(limiter.run(async () => 3)).rejects.toBeInstanceOf(PasswordHasherBusyError);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual([1, 2]);
    expect(limiter.queued).toBe(0);
  });

  it("frees its slot when a task throws", async () => {
    const limiter = createLimiter(1, 0);
    await expect(limiter.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await limiter.run(async () => "ok")).toBe("ok");
  });
});
