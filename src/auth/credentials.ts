// Checking an email and password, the one way every login path does it:
// same work, same answer for an unknown email and a wrong password.
import { refuse, type RefusalCode } from "../refusals.js";
import type { UserRow } from "../store/store.js";
import type { PasswordHasher } from "./passwords.js";
import { checkLoginAllowed, recordLoginFailure, recordLoginSuccess, type Attempt, type LimiterDeps } from "./rate-limit.js";

/** What a password check needs: the limiter's dependencies and the hasher. */
export interface CredentialDeps extends LimiterDeps {
  passwords: PasswordHasher;
}

/** The user when the password is right; null otherwise, at the same cost either way. */
async function checkCredentials(deps: CredentialDeps, email: string, password: string): Promise<UserRow | null> {
  const user = await deps.store.findUserByEmail(email);
  if (!user) return deps.passwords.verifyDummy(password).then(() => null);
  if (!(await deps.passwords.verify(user.passwordHash, password))) return null;
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
export async function passwordStillCurrent(deps: Pick<CredentialDeps, "store">, verified: UserRow): Promise<boolean> {
  const current = await deps.store.findUserById(verified.id);
  return current !== null && current.passwordHash === verified.passwordHash;
}

/**
 * A password check that counts toward the login limits (POST /login,
 * /token/login, and re-entering the current password): the user, or the 429
 * or 401 that ends the request. The limits are checked before any password work.
 */
export async function attemptLogin(
  deps: CredentialDeps,
  attempt: Attempt,
  password: string,
  failure: RefusalCode = "invalidCredentials",
): Promise<UserRow | Response> {
  const limited = await checkLoginAllowed(deps, attempt);
  if (limited) return limited;
  const user = await checkCredentials(deps, attempt.email, password);
  if (!user) {
    await recordLoginFailure(deps, attempt);
    return refuse(failure);
  }
  await recordLoginSuccess(deps, attempt);
  return user;
}
