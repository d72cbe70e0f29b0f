// Argon2id password hashing in PHC string format, off the event loop (libuv
// threads inside @node-rs/argon2) and behind a bounded queue, so a login storm
// is refused early instead of piling up behind everyone else's requests.
import { hash as argon2Hash, parseOptions, verify as argon2Verify } from "@node-rs/argon2";

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface HasherOptions extends Argon2Params {
  /** Hashes computed at once. */
  concurrency: number;
  /** Hashes allowed to wait for a slot; past that, PasswordHasherBusyError. */
  maxQueue?: number;
}

/** The hasher's queue is full: answer 503 rather than wait. */
export class PasswordHasherBusyError extends Error {
  override name = "PasswordHasherBusyError";
  constructor() {
    super("Password hashing queue is full");
  }
}

const ARGON2ID = 2; // Algorithm.Argon2id (a const enum the isolated-module build cannot import)

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies the password exactly as given: no trimming, no normalisation. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** Burns the same work as verify() for an account that does not exist. */
  verifyDummy(password: string): Promise<false>;
  /** True when the stored hash was made with other parameters than the configured ones. */
  needsRehash(passwordHash: string): boolean;
  /** Hashes waiting for a slot (GET /metrics); a hasher without a queue may leave it out. */
  readonly queued?: number;
}

/** Runs at most `concurrency` tasks at once; at most `maxQueue` may wait. */
export function createLimiter(concurrency: number, maxQueue = Infinity) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    const next = waiting.shift();
    if (next) {
      running++;
      next();
    }
  };
  return {
    get queued() {
      return waiting.length;
    },
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running >= concurrency) {
        if (waiting.length >= maxQueue) throw new PasswordHasherBusyError();
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        running++;
      }
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

export function createPasswordHasher(options: HasherOptions): PasswordHasher {
  const params = {
    algorithm: ARGON2ID,
    memoryCost: options.memoryCost,
    timeCost: options.timeCost,
    parallelism: options.parallelism,
  };
  const limiter = createLimiter(options.concurrency, options.maxQueue);
  // Made once, up front, with the configured parameters, so a dummy verify
  // costs exactly what a real one does from the very first request.
  const dummyHash = argon2Hash("latchkey-dummy-password", params);

  const verify = (passwordHash: string, password: string) =>
    limiter.run(async () => {
      try {
        return await argon2Verify(passwordHash, password);
      } catch {
        return false; // a malformed stored hash never verifies
      }
    });

  return {
    get queued() {
      return limiter.queued;
    },
    hash: (password) => limiter.run(() => argon2Hash(password, params)),
    verify,
    async verifyDummy(password) {
      await verify(await dummyHash, password);
      return false;
    },
    needsRehash(passwordHash) {
      try {
        const p = parseOptions(passwordHash);
        return (
          p.algorithm !== ARGON2ID ||
          p.memoryCost !== params.memoryCost ||
          p.timeCost !== params.timeCost ||
          p.parallelism !== params.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}
