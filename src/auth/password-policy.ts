// What a new password must not be, beyond its length (schemas.ts: 8 to 1024
// characters, no composition rules). Following NIST SP 800-63B: refuse what
// attackers try first -- the most common passwords, and the account's own
// email -- and nothing else, so long pasted passphrases always work.
// Applied by accounts.ts, the one place a password is set (signup, change, reset, CLI, bootstrap).
import { readFileSync } from "node:fs";

let common: Set<string> | undefined;

/**
 * The shipped list (src/auth/common-passwords.txt, 17,950 passwords of 8+
 * characters from the top 49,233 of @zxcvbn-ts/language-common, MIT), lower
 * case. Read on first use, so only servers that set passwords pay for it.
 */
export function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL("./common-passwords.txt", import.meta.url), "utf8")
      .split("\n")
      .filter(Boolean),
  );
  return common;
}

export interface PasswordPolicyOptions {
  rejectCommon: boolean;
}

/** Why this password may not be used for this account, or null when it may. */
export function passwordPolicyViolation(password: string, email: string, options: PasswordPolicyOptions): string | null {
  const folded = password.toLowerCase();
  const at = email.lastIndexOf("@");
  const localPart = at > 0 ? email.slice(0, at) : email;
  if (folded === email.toLowerCase() || folded === localPart.toLowerCase()) {
    return "Password must not be the same as the email address";
  }
  if (options.rejectCommon && commonPasswords().has(folded)) {
    return "Password is one of the most common passwords; choose another one";
  }
  return null;
}
