// Checking an email and password, the one way every login path does it:
// same work, same answer for an unknown email and a wrong password.
import type { Deps } from "../deps.js";
import type { UserRow } from "../store/store.js";

/** The user when the password is right; null otherwise, at the same cost either way. */
export async function checkCredentials(deps: Deps, email: string, password: string): Promise<UserRow | null> {
  const user = await deps.store.findUserByEmail(email);
  if (!user) return deps.passwords.verifyDummy(password).then(() => null);
  if (!(await deps.passwords.verify(user.passwordHash, password))) return null;
  if (deps.passwords.needsRehash(user.passwordHash)) {
    // The configured parameters changed since this hash was made: upgrade it while we have the password.
    await deps.store.setPasswordHash(user.id, await deps.passwords.hash(password), deps.clock());
  }
  return user;
}
