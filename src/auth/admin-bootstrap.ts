// The first admin, from LATCHKEY_ADMIN_EMAIL + LATCHKEY_ADMIN_PASSWORD. There
// is no default account and no default password (ASVS 6.3.2): without these
// variables nobody is an admin until the CLI makes one. Bootstrap happens once
// per database: the first start that finds or creates the account records it
// (a setting), and no later start creates it again -- otherwise deleting that
// admin while the variables are still set would bring it back, with its
// initial password, at the next restart. An existing account is never changed.
import type { Clock } from "../clock.js";
import { ConfigError, type Config } from "../config.js";
import type { Logger } from "../log.js";
import type { Store } from "../store/store.js";
import { createAccounts, type Accounts } from "./accounts.js";
import { createPasswordHasher, type PasswordHasher } from "./passwords.js";
import { createSessionManager } from "./sessions.js";

/** "done": an earlier start already bootstrapped this database; nothing was looked up or created. */
export type BootstrapOutcome = "disabled" | "created" | "exists" | "done";

/** The setting that records the bootstrap: `{ email, userId, at }` as JSON. */
export const ADMIN_BOOTSTRAP_SETTING = "admin_bootstrap";

export interface BootstrapOptions {
  config: Pick<Config, "adminBootstrap" | "argon2" | "rejectCommonPasswords" | "session" | "events">;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The server's account lifecycle (createLatchkey's `accounts`); built from the options when absent. */
  accounts?: Pick<Accounts, "create">;
  passwords?: PasswordHasher;
}

export async function bootstrapAdmin(options: BootstrapOptions): Promise<BootstrapOutcome> {
  const { config, store, clock, logger } = options;
  const admin = config.adminBootstrap;
  if (!admin) return "disabled";
  const settings = store.tokens;

  const recorded = await settings.getSetting(ADMIN_BOOTSTRAP_SETTING);
  if (recorded !== null) {
    warnStillSet(logger, recorded);
    return "done";
  }
  const outcome = await findOrCreate(options, admin);
  const record = JSON.stringify({ email: admin.email, userId: outcome.userId, at: new Date(clock()).toISOString() });
  await settings.setSettingIfAbsent(ADMIN_BOOTSTRAP_SETTING, record); // two instances at once: the first record stays
  warnStillSet(logger);
  return outcome.result;
}

async function findOrCreate(
  options: BootstrapOptions,
  admin: NonNullable<Config["adminBootstrap"]>,
): Promise<{ result: "created" | "exists"; userId: string | null }> {
  const { config, store, clock, logger } = options;
  const existing = await store.findUserByEmail(admin.email);
  if (existing) {
    if (existing.role !== "admin") {
      logger.warn({ event: "admin.bootstrap_not_admin", userId: existing.id }, "LATCHKEY_ADMIN_EMAIL names an existing account that is not an admin; it was left unchanged");
    }
    return { result: "exists", userId: existing.id };
  }
  const accounts =
    options.accounts ??
    createAccounts({
      store,
      sessions: createSessionManager(store, config.session, clock),
      passwords: options.passwords ?? createPasswordHasher(config.argon2),
      clock,
      config,
    });
  const user = await accounts.create({ email: admin.email, password: admin.password, role: "admin", verified: true }, { via: "bootstrap" });
  if ("refused" in user) {
    if (user.refused === "weak_password") throw new ConfigError(`LATCHKEY_ADMIN_PASSWORD is refused: ${user.reason}`);
    // Another instance starting at the same moment won.
    const winner = await store.findUserByEmail(admin.email);
    return { result: "exists", userId: winner?.id ?? null };
  }
  logger.info({ event: "admin.bootstrapped", userId: user.id });
  return { result: "created", userId: user.id };
}

/** Every start with the variables set says so: a password in the environment is a password in every process listing. */
function warnStillSet(logger: Logger, recorded?: string): void {
  const { userId, at } = recorded === undefined ? {} : parseRecord(recorded);
  logger.warn(
    { event: "admin.bootstrap_env_set", ...(userId ? { userId } : {}), ...(at ? { bootstrappedAt: at } : {}) },
    recorded === undefined
      ? "The first admin is set up; remove LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD from the environment"
      : "LATCHKEY_ADMIN_PASSWORD is still set but is ignored: this database's first admin was bootstrapped before (an admin deleted since is not re-created); remove LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD from the environment",
  );
}

function parseRecord(recorded: string): { userId?: string; at?: string } {
  try {
    const value = JSON.parse(recorded) as { userId?: unknown; at?: unknown };
    return {
      ...(typeof value.userId === "string" ? { userId: value.userId } : {}),
      ...(typeof value.at === "string" ? { at: value.at } : {}),
    };
  } catch {
    return {};
  }
}
