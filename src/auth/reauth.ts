// Fresh re-authentication for sensitive actions: the session must have been
// proven recently (REAUTH_MAX_AGE) and, when the account has a second factor,
// with it (aal2). Otherwise the 401 says how to prove it again (POST /reauth).
// Inside an impersonation no sensitive action is allowed at all (403).
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { refuse } from "../refusals.js";
import type { Authenticated } from "./authenticate.js";
import type { FactorMethod, Mfa } from "./mfa.js";

export interface ReauthDeps {
  config: Pick<Config, "mfa">;
  clock: Clock;
  mfa: Pick<Mfa, "methods">;
}

/**
 * null when the session may do something sensitive now; otherwise the 401
 * `{error: "Re-authentication required", reauth: {maxAge, methods}}`.
 * `passwordGiven`: the request itself carries the current password, checked
 * by the route; for an account without a second factor that is a
 * re-authentication already (aal1 is all it can prove), so age does not matter.
 * `methods`: the account's second factors, when the caller has read them already.
 */
export async function reauthRefusal(
  deps: ReauthDeps,
  auth: Authenticated,
  options: { passwordGiven?: boolean; methods?: FactorMethod[] } = {},
): Promise<Response | null> {
  if (auth.session.impersonatorId !== null) return refuse("notWhileImpersonating"); // an admin signed in as the user: never
  const methods = options.methods ?? (await deps.mfa.methods(auth.user.id));
  if (methods.length === 0 && options.passwordGiven) return null;
  const maxAgeMs = deps.config.mfa.reauthMaxAgeMs;
  const recent = deps.clock() - auth.session.authenticatedAt <= maxAgeMs;
  const strongEnough = methods.length === 0 || auth.session.aal === "aal2";
  if (recent && strongEnough) return null;
  return refuse("reauthRequired", { reauth: { maxAge: Math.floor(maxAgeMs / 1000), methods: ["password", ...methods] } });
}
