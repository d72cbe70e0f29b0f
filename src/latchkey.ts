// createLatchkey(): builds everything from a config and a store, and hands
// back the app, a Fetch handler and the framework-free helpers.
import { createAuthenticator } from "./auth/authenticate.js";
import { type CookieOptions } from "./auth/cookies.js";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords.js";
import { createSessionManager } from "./auth/sessions.js";
import { createApp } from "./app.js";
import { systemClock, type Clock } from "./clock.js";
import { loadConfig, type Config } from "./config.js";
import type { Deps } from "./deps.js";
import { createLogger, type Logger } from "./log.js";
import type { Store } from "./store/store.js";

export interface LatchkeyOptions {
  store: Store;
  config?: Config;
  clock?: Clock;
  logger?: Logger;
  passwords?: PasswordHasher;
  /** Run the expired-session pruner in the background (default true). */
  backgroundTasks?: boolean;
}

export function createLatchkey(options: LatchkeyOptions) {
  const config = options.config ?? loadConfig();
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = options.store;
  const cookies: CookieOptions = { secure: config.secureCookies };
  const sessions = createSessionManager(store, config.session, clock);
  const passwords = options.passwords ?? createPasswordHasher(config.argon2);
  const authenticate = createAuthenticator(sessions, cookies);
  const deps: Deps = { config, store, sessions, passwords, authenticate, cookies, clock, logger };
  const app = createApp(deps);

  let pruner: NodeJS.Timeout | undefined;
  const pruneNow = async () => {
    try {
      const removed = await sessions.prune(config.session.pruneBatchSize);
      const counters = await store.pruneCounters(clock(), config.session.pruneBatchSize);
      if (removed + counters > 0) logger.info({ event: "store.pruned", sessions: removed, counters });
    } catch (err) {
      logger.warn({ event: "sessions.prune_failed", message: (err as Error).message });
    }
  };
  if (options.backgroundTasks !== false) {
    pruner = setInterval(pruneNow, config.session.pruneIntervalMs);
    pruner.unref();
  }

  return {
    app,
    /** A Fetch-API handler: (request) => Promise<Response>. */
    fetch: (request: Request, env?: unknown) => app.fetch(request, env),
    authenticate,
    cookies,
    sessions,
    store,
    config,
    logger,
    pruneNow,
    /** Stops background work. The store stays open: its owner closes it. */
    stop() {
      if (pruner) clearInterval(pruner);
    },
  };
}

export type Latchkey = ReturnType<typeof createLatchkey>;
