// The first admin, from LATCHKEY_ADMIN_EMAIL + LATCHKEY_ADMIN_PASSWORD. There
// is no default account and no default password (ASVS 6.3.2): without these
// variables nobody is an admin until the CLI makes one. The account is created
// only if the email is absent; an existing account is never changed, so a
// restart cannot reset a password that its owner has since changed.
import { passwordPolicyViolation } from "./auth/password-policy.js";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords.js";
import { createAccount } from "./auth/users.js";
import type { Clock } from "./clock.js";
import { ConfigError, type Config } from "./config.js";
import type { Logger } from "./log.js";
import { EmailTakenError, type Store } from "./store/store.js";

export type BootstrapOutcome = "disabled" | "created" | "exists";

export interface BootstrapOptions {
  config: Pick<Config, "adminBootstrap" | "argon2" | "rejectCommonPasswords">;
  store: Store;
  clock: Clock;
  logger: Logger;
  passwords?: PasswordHasher;
}

export async function bootstrapAdmin(options: BootstrapOptions): Promise<BootstrapOutcome> {
  const { config, store, clock, logger } = options;
  const admin = config.adminBootstrap;
  if (!admin) return "disabled";
  const existing = await store.findUserByEmail(admin.email);
  if (existing) {
    if (existing.role !== "admin") {
      logger.warn({ event: "admin.bootstrap_not_admin", userId: existing.id }, "LATCHKEY_ADMIN_EMAIL names an existing account that is not an admin; it was left unchanged");
    }
    return "exists";
  }
  const weak = passwordPolicyViolation(admin.password, admin.email, { rejectCommon: config.rejectCommonPasswords });
  if (weak) throw new ConfigError(`LATCHKEY_ADMIN_PASSWORD is refused: ${weak}`);
  const passwords = options.passwords ?? createPasswordHasher(config.argon2);
  try {
    const user = await createAccount(store, passwords, { email: admin.email, password: admin.password, role: "admin" }, clock());
    logger.info({ event: "admin.bootstrapped", userId: user.id });
    return "created";
  } catch (err) {
    if (err instanceof EmailTakenError) return "exists"; // another instance starting at the same moment won
    throw err;
  }
}
