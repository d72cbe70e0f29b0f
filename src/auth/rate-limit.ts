// Brute force and credential stuffing: rate limits and lockout, kept in the
// store's fixed-window counters so they survive restarts and are shared by
// every instance on the same database. Checked before any password work, and
// refused with one body for every reason, so a refusal reveals nothing about
// which limit (or which account) it was.
//
// Every login-like path (POST /login, /token/login, re-entering the current
// password) calls checkLoginAllowed() first and records the outcome after.
//
// Lockout trade-off: a lock keyed by email alone lets anyone lock anyone out
// forever by failing on purpose. So failures are counted twice:
//   - per (email, client IP): LOCKOUT_THRESHOLD (10) consecutive failures lock
//     that pair for LOCKOUT_DURATION (15 min). The attacker locks only themselves.
//   - per email from anywhere: LOCKOUT_ACCOUNT_THRESHOLD (100) locks the account
//     for everyone for the same duration. This is the backstop against a
//     distributed attack; it can be triggered by a botnet, but only every
//     (threshold / per-email rate) minutes and only for LOCKOUT_DURATION, while
//     the per-email rate limit already caps guessing at 5 a minute.
// A success clears both failure counts for that email.
//
// An unknown client address (a runtime that does not say, and no clientIp hook)
// is never a key: one shared "unknown" bucket would let one client fill it for
// everyone (429 for all) and lock the owner out from everywhere with ten wrong
// passwords. So without an address, no per-IP counter and no pair lock apply;
// the per-email limit, the account lockout, the global ceilings and the
// hasher's queue bound still do.
import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Config, Limit } from "../config.js";
import { refuse } from "../refusals.js";
import type { Metrics } from "../metrics.js";
import type { CounterState, Store } from "../store/store.js";

export interface LimiterDeps {
  store: Store;
  clock: Clock;
  config: Pick<Config, "rateLimits">;
  /** Where a refusal is counted (noMetrics without METRICS_TOKEN). */
  metrics: Pick<Metrics, "rateLimited">;
}

/** A refusal by the named limit: counted for /metrics, then answered. */
function refused(deps: LimiterDeps, limit: string, response: Response): Response {
  deps.metrics.rateLimited(limit);
  return response;
}

export interface Attempt {
  /** The normalised email (trimmed, lower case). */
  email: string;
  /** The client address (see http/client-ip.ts); null when the runtime does not tell. */
  ip: string | null;
}

/** The one 429 every limit answers with. */
export function tooManyAttempts(retryAfterSeconds: number): Response {
  return refuse("tooManyAttempts", undefined, { "retry-after": String(retryAfterSeconds) });
}

/** Whole seconds until resetAt, at least 1 (Retry-After: 0 would invite an instant retry). */
export function retryAfterSeconds(resetAt: number, now: number): number {
  return Math.max(1, Math.ceil((resetAt - now) / 1000));
}

/**
 * The key a client address is counted under; null when the address is unknown
 * (then nothing is counted per IP, see above). IPv6 clients are counted per /64:
 * one home or server usually gets a whole /64, and counting single addresses
 * would give an attacker 2^64 fresh "clients".
 */
export function ipKey(ip: string | null): string | null {
  if (!ip) return null;
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.split("::");
  const headParts = head ? head.split(":") : [];
  const tailParts = tail ? tail.split(":") : [];
  const missing = ip.includes("::") ? 8 - headParts.length - tailParts.length : 0;
  const groups = [...headParts, ...Array<string>(Math.max(0, missing)).fill("0"), ...tailParts];
  return groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":") + "::/64";
}

// Keys: the IP never contains a space, so "ip email" cannot be confused across fields.
const keys = {
  loginIp: (ip: string) => `login:ip:${ip}`,
  loginEmail: (email: string) => `login:email:${email}`,
  pairFailures: (ip: string, email: string) => `login:fail:${ip} ${email}`,
  pairLock: (ip: string, email: string) => `login:lock:${ip} ${email}`,
  accountFailures: (email: string) => `login:fail-account:${email}`,
  accountLock: (email: string) => `login:lock-account:${email}`,
  signupIp: (ip: string) => `signup:ip:${ip}`,
  // The address is hashed like the key of the per-address limit has always been.
  forgotEmail: (email: string) => `forgot-password:${createHash("sha256").update(email).digest("hex")}`,
  forgotIp: (ip: string) => `forgot-password:ip:${ip}`,
  forgotGlobal: () => "forgot-password:global",
  verifyEmail: (email: string) => `verify-email:${createHash("sha256").update(email).digest("hex")}`,
  verifyIp: (ip: string) => `verify-email:ip:${ip}`,
  verifyGlobal: () => "verify-email:global",
  resetIp: (ip: string) => `reset-password:ip:${ip}`,
};

/** Counts one hit; the state when over the limit, null when still within it (or when there is no key). */
async function overLimit(deps: LimiterDeps, key: string | null, limit: Limit, now: number): Promise<CounterState | null> {
  if (key === null) return null;
  const state = await deps.store.hitCounter(key, limit.windowMs, now);
  return state.count > limit.limit ? state : null;
}

/**
 * May this login attempt go on to the password check? null if so; else the 429
 * to answer. Counts the attempt against the per-IP and per-email limits.
 */
export async function checkLoginAllowed(deps: LimiterDeps, attempt: Attempt): Promise<Response | null> {
  const { store, clock, config } = deps;
  const limits = config.rateLimits;
  const now = clock();
  const ip = ipKey(attempt.ip);

  const locks = [
    await store.peekCounter(keys.accountLock(attempt.email), now),
    ip === null ? null : await store.peekCounter(keys.pairLock(ip, attempt.email), now),
  ];
  const lockedUntil = Math.max(...locks.map((l) => l?.resetAt ?? 0));
  if (lockedUntil > now) return refused(deps, "lockout", tooManyAttempts(retryAfterSeconds(lockedUntil, now)));

  // IP first: a client already over its own limit does not also use up the victim's per-email budget.
  const over =
    (await overLimit(deps, ip && keys.loginIp(ip), limits.loginPerIp, now)) ??
    (await overLimit(deps, keys.loginEmail(attempt.email), limits.loginPerEmail, now));
  return over ? refused(deps, "login", tooManyAttempts(retryAfterSeconds(over.resetAt, now))) : null;
}

/**
 * A wrong password (or unknown email: counted the same, so counting reveals
 * nothing). Returns the locks this failure set: "client" (this address and
 * email), "account" (the email from anywhere).
 */
export async function recordLoginFailure(deps: LimiterDeps, attempt: Attempt): Promise<("client" | "account")[]> {
  const { store, clock, config } = deps;
  const { lockout } = config.rateLimits;
  const now = clock();
  const ip = ipKey(attempt.ip);
  const locked: ("client" | "account")[] = [];

  if (ip !== null) {
    const pair = await store.hitCounter(keys.pairFailures(ip, attempt.email), lockout.failureWindowMs, now);
    if (pair.count >= lockout.pairThreshold) {
      await store.hitCounter(keys.pairLock(ip, attempt.email), lockout.durationMs, now);
      await store.deleteCounter(keys.pairFailures(ip, attempt.email));
      locked.push("client");
    }
  }
  const account = await store.hitCounter(keys.accountFailures(attempt.email), lockout.failureWindowMs, now);
  if (account.count >= lockout.accountThreshold) {
    await store.hitCounter(keys.accountLock(attempt.email), lockout.durationMs, now);
    await store.deleteCounter(keys.accountFailures(attempt.email));
    locked.push("account");
  }
  return locked;
}

/** The right password: the failures so far were the owner's typos, forget them. */
export async function recordLoginSuccess(deps: LimiterDeps, attempt: Attempt): Promise<void> {
  const ip = ipKey(attempt.ip);
  if (ip !== null) await deps.store.deleteCounter(keys.pairFailures(ip, attempt.email));
  await deps.store.deleteCounter(keys.accountFailures(attempt.email));
}

/** May this client sign up now? Counts the attempt; null if so, else the 429. */
export async function checkSignupAllowed(deps: LimiterDeps, ip: string | null): Promise<Response | null> {
  const now = deps.clock();
  const key = ipKey(ip);
  const over = await overLimit(deps, key && keys.signupIp(key), deps.config.rateLimits.signupPerIp, now);
  return over ? refused(deps, "signup", tooManyAttempts(retryAfterSeconds(over.resetAt, now))) : null;
}

/**
 * May this client ask for a reset link for this address now? null if so, else
 * the 429. Every request counts, whether or not the address has an account, so
 * neither the answer nor the counting reveals which addresses do. The client
 * first (over its own limit, it uses up nobody else's budget), then the
 * address, then the server-wide ceiling on the mail one deployment sends.
 */
export async function checkForgotPasswordAllowed(deps: LimiterDeps, attempt: Attempt): Promise<Response | null> {
  const now = deps.clock();
  const limits = deps.config.rateLimits;
  const ip = ipKey(attempt.ip);
  const over =
    (await overLimit(deps, ip && keys.forgotIp(ip), limits.forgotPasswordPerIp, now)) ??
    (await overLimit(deps, keys.forgotEmail(attempt.email), limits.forgotPasswordPerEmail, now)) ??
    (await overLimit(deps, keys.forgotGlobal(), limits.forgotPasswordGlobal, now));
  if (!over) return null;
  return refused(deps, "forgot_password", refuse("tooManyResets", undefined, { "retry-after": String(retryAfterSeconds(over.resetAt, now)) }));
}

/**
 * May this client have another verification link mailed? The forgot-password
 * limits (per client, per address, server-wide), on counters of their own.
 */
export async function checkVerificationMailAllowed(deps: LimiterDeps, attempt: Attempt): Promise<Response | null> {
  const now = deps.clock();
  const limits = deps.config.rateLimits;
  const ip = ipKey(attempt.ip);
  const over =
    (await overLimit(deps, ip && keys.verifyIp(ip), limits.forgotPasswordPerIp, now)) ??
    (await overLimit(deps, keys.verifyEmail(attempt.email), limits.forgotPasswordPerEmail, now)) ??
    (await overLimit(deps, keys.verifyGlobal(), limits.forgotPasswordGlobal, now));
  if (!over) return null;
  return refused(deps, "verify_email", refuse("tooManyVerificationMails", undefined, { "retry-after": String(retryAfterSeconds(over.resetAt, now)) }));
}

/** May this client try a reset token now? Counts the attempt; null if so, else the 429. */
export async function checkResetPasswordAllowed(deps: LimiterDeps, ip: string | null): Promise<Response | null> {
  const now = deps.clock();
  const key = ipKey(ip);
  const over = await overLimit(deps, key && keys.resetIp(key), deps.config.rateLimits.resetPasswordPerIp, now);
  return over ? refused(deps, "reset_password", tooManyAttempts(retryAfterSeconds(over.resetAt, now))) : null;
}
