// Checking an email and password, the one way every login path does it:
// same work, same answer for an unknown email and a wrong password.
import { newEvent, type EventContext, type EventType } from "../events.js";
import type { Config } from "../config.js";
import { refuse, type RefusalCode } from "../refusals.js";
import { isDisabled, type UserRow } from "../store/store.js";
import type { FactorMethod, Mfa } from "./mfa.js";
import type { PasswordHasher } from "./passwords.js";
import { checkLoginAllowed, recordLoginFailure, recordLoginSuccess, type Attempt, type LimiterDeps } from "./rate-limit.js";

/** What a password check needs: the limiter's dependencies and the hasher. */
export interface CredentialDeps extends LimiterDeps {
  passwords: PasswordHasher;
}

/**
 * The user when the password is right; otherwise whose it was (null: no such
 * account), at the same cost either way.
 */
async function checkCredentials(deps: CredentialDeps, email: string, password: string): Promise<UserRow | { wrong: string | null }> {
  const user = await deps.store.findUserByEmail(email);
  if (!user) return deps.passwords.verifyDummy(password).then(() => ({ wrong: null }));
  if (!(await deps.passwords.verify(user.passwordHash, password))) return { wrong: user.id };
  if (deps.passwords.needsRehash(user.passwordHash)) {
    // The configured parameters changed since this hash was made: upgrade it while we have the password.
    const passwordHash = await deps.passwords.hash(password);
    await deps.store.setPasswordHash(user.id, passwordHash, deps.clock());
    return { ...user, passwordHash };
  }
  return user;
}

/**
 * Is the password this login verified still the user's password? A password
 * change revokes the credentials that exist when it runs; a login that had
 * verified the old password just before must not create one that outlives the
 * change. So a login creates its session (or token family), then asks this,
 * and takes the credential back when the answer is no.
 */
export async function passwordStillCurrent(deps: Pick<CredentialDeps, "store" | "clock">, verified: UserRow): Promise<boolean> {
  const current = await deps.store.findUserById(verified.id);
  // Disabled meanwhile: its sessions were ended, and this one must not slip past that either.
  return current !== null && current.passwordHash === verified.passwordHash && !isDisabled(current, deps.clock());
}

/**
 * The 403 for a disabled account, or null. Asked only after the password was
 * right, so it tells nothing to someone without it; a disabling with an end
 * has ended by itself once that time is past.
 */
export async function refuseDisabled(deps: Pick<CredentialDeps, "store" | "clock">, user: UserRow, context: EventContext): Promise<Response | null> {
  const now = deps.clock();
  if (!isDisabled(user, now)) return null;
  await deps.store.events.append(newEvent("login.disabled", now, context, user.id));
  return refuse("accountDisabled");
}

/** How a failed check is answered and recorded. */
export interface FailureOptions {
  refusal: RefusalCode;
  event: EventType;
  context: EventContext;
  /**
   * false: a right password does not yet clear the failure counters; the
   * caller does (recordLoginSuccess) once nothing else is asked. A second
   * factor is next: a password alone must not reset the count of wrong codes.
   */
  resetCounters: boolean;
}

const LOGIN_FAILURE: Omit<FailureOptions, "context"> = { refusal: "invalidCredentials", event: "login.failure", resetCounters: true };

/**
 * A password check that counts toward the login limits (POST /login,
 * /token/login, and re-entering the current password): the user, or the 429
 * or 401 that ends the request. The limits are checked before any password
 * work. A wrong password records its event (and a lock it triggers, its own);
 * a refusal by a limit records nothing (metrics count those: an attacker's
 * flood must not grow the audit log).
 */
export async function attemptLogin(
  deps: CredentialDeps,
  attempt: Attempt,
  password: string,
  failure: Partial<FailureOptions> = {},
): Promise<UserRow | Response> {
  const { refusal, event, context, resetCounters } = { ...LOGIN_FAILURE, context: { ip: attempt.ip }, ...failure };
  const limited = await checkLoginAllowed(deps, attempt);
  if (limited) return limited;
  const user = await checkCredentials(deps, attempt.email, password);
  if ("wrong" in user) {
    const now = deps.clock();
    await deps.store.events.append(newEvent(event, now, context, user.wrong));
    const locked = await recordLoginFailure(deps, attempt);
    for (const scope of locked) await deps.store.events.append(newEvent("login.locked", now, context, user.wrong, { scope }));
    return refuse(refusal);
  }
  if (resetCounters) await recordLoginSuccess(deps, attempt);
  return user;
}

/** A second factor as a request sends it: one of the two. */
export interface SecondFactorInput {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

/**
 * The second step (POST /login/mfa, /token/login/mfa, /reauth): the code or
 * recovery code, under the very limits and lockout of the password, counted
 * against the account's email and this client. The method that was right
 * (the counters are cleared then), else the 401 or 429 that ends the request.
 */
export async function attemptSecondFactor(
  deps: CredentialDeps & { mfa: Pick<Mfa, "verifyTotp" | "useRecoveryCode"> },
  attempt: Attempt,
  userId: string,
  input: SecondFactorInput,
  context: EventContext,
): Promise<Response | FactorMethod> {
  const limited = await checkLoginAllowed(deps, attempt);
  if (limited) return limited;
  const right =
    input.code !== undefined
      ? await deps.mfa.verifyTotp(userId, input.code)
      : input.recoveryCode !== undefined && (await deps.mfa.useRecoveryCode(userId, input.recoveryCode, context));
  if (!right) {
    const now = deps.clock();
    await deps.store.events.append(newEvent("login.mfa_failure", now, context, userId));
    const locked = await recordLoginFailure(deps, attempt);
    for (const scope of locked) await deps.store.events.append(newEvent("login.locked", now, context, userId, { scope }));
    return refuse("wrongCode");
  }
  await recordLoginSuccess(deps, attempt);
  return input.code !== undefined ? "totp" : "recovery_code";
}

/**
 * EMAIL_VERIFICATION=required: the 403 for an account whose address is not
 * proven yet, or null. Asked only after the password was right, so it tells
 * nothing to someone without it.
 */
export async function refuseUnverified(
  deps: Pick<CredentialDeps, "store" | "clock"> & { config: Pick<Config, "emailVerification"> },
  user: UserRow,
  context: EventContext,
): Promise<Response | null> {
  if (deps.config.emailVerification.mode !== "required" || user.emailVerifiedAt !== null) return null;
  await deps.store.events.append(newEvent("login.unverified", deps.clock(), context, user.id));
  return refuse("emailNotVerified");
}
