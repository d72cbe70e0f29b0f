// measuredStore(): the same Store with every method of it and of its `tokens`
// and `factors` sub-stores timed and its failures counted, for GET /metrics. createLatchkey()
// applies it only when METRICS_TOKEN is set: without it the engine's own object
// is used and no call pays for this.
import type { Metrics, StoreOperationSeries } from "../metrics.js";
import { EmailTakenError, type Store } from "./store.js";
import type { FactorStore } from "./factor-store.js";
import type { TokenStore } from "./token-store.js";

type MethodsOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

// Every method, checked by the compiler both ways: a method added to Store or
// TokenStore or FactorStore fails to compile until it is listed here (an unmeasured call
// would look like no traffic), and a name that is not a method is refused.
const STORE_METHODS = {
  createUser: true, findUserByEmail: true, findUserById: true, setPasswordHash: true, recordLogin: true, markEmailVerified: true, setEmail: true,
  listUsers: true, setUserRole: true, setDisabledUntil: true, deleteUser: true,
  createSession: true, findSession: true, touchSession: true, deleteSession: true, listUserSessions: true,
  deleteUserSession: true, deleteUserSessions: true, deleteAllSessions: true, pruneSessions: true,
  hitCounter: true, peekCounter: true, deleteCounter: true, pruneCounters: true,
  ping: true, close: true,
} satisfies Record<MethodsOf<Store>, true>;

const TOKEN_METHODS = {
  createRefreshFamily: true, rotateRefreshToken: true, revokeRefreshFamilyOf: true, revokeUserRefreshFamilies: true,
  countUserRefreshFamilies: true, isRefreshFamilyLive: true, revokeUserCredentials: true, revokeAllCredentials: true,
  createResetToken: true, consumeResetToken: true, deleteUserResetTokens: true, createEmailToken: true, consumeEmailToken: true,
  getSetting: true, setSettingIfAbsent: true, pruneTokens: true,
} satisfies Record<MethodsOf<TokenStore>, true>;

const FACTOR_METHODS = {
  getTotp: true, putPendingTotp: true, enableTotp: true, useTotpStep: true, removeTotp: true,
  replaceRecoveryCodes: true, useRecoveryCode: true, countRecoveryCodes: true, anySealedSecret: true,
  createChallenge: true, findChallenge: true, consumeChallenge: true, deleteUserChallenges: true, pruneChallenges: true,
} satisfies Record<MethodsOf<FactorStore>, true>;

/**
 * The wrapper inherits from the engine's object (Object.create), so whatever
 * it does not override reads through to the original, live: `engine`, extra
 * properties such as SQLite's `db` or PostgreSQL's `pool`, sessionCacheStats(),
 * and sub-stores other than `tokens` and `factors` (passed through untouched,
 * unmeasured). Only the listed methods and those two are own properties of the wrapper.
 */
export function measuredStore<S extends Store>(store: S, metrics: Metrics): S {
  const measured = measuring(store, Object.keys(STORE_METHODS), "", metrics);
  Object.defineProperty(measured, "tokens", { value: measuring(store.tokens, Object.keys(TOKEN_METHODS), "tokens.", metrics), enumerable: true });
  Object.defineProperty(measured, "factors", { value: measuring(store.factors, Object.keys(FACTOR_METHODS), "factors.", metrics), enumerable: true });
  return measured;
}

function measuring<T extends object>(target: T, methods: string[], prefix: string, metrics: Metrics): T {
  const out = Object.create(target) as T;
  for (const name of methods) {
    const original = (target as Record<string, unknown>)[name];
    if (typeof original !== "function") continue; // not on this object: nothing to time, reads still go through
    Object.defineProperty(out, name, { value: timed(target, original as Method, metrics.storeOperation(prefix + name)), enumerable: true });
  }
  return out;
}

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * The call itself is unchanged (same `this`, same arguments, same promise
 * outcome): findSession's batching happens inside it, so what is timed is one
 * lookup from asking to answer, batch wait included.
 */
function timed(target: object, original: Method, series: StoreOperationSeries): Method {
  return function (...args) {
    const started = performance.now();
    let result: Promise<unknown>;
    try {
      result = original.apply(target, args);
    } catch (err) {
      series.record(started, true);
      throw err;
    }
    return result.then(
      (value) => {
        series.record(started, false);
        return value;
      },
      (err: unknown) => {
        // A taken email is createUser's answer to a second signup, not a failure of
        // the store: counting it would let any visitor raise the error rate.
        series.record(started, !(err instanceof EmailTakenError));
        throw err;
      },
    );
  };
}
