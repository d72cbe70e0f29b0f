// createLatchkey(): builds everything from a config and a store, and hands
// back the app, a Fetch handler and the framework-free helpers.
import { getRequestListener, RequestError } from "@hono/node-server";
import { createAuthenticator, createSessionCheck } from "./auth/authenticate.js";
import { createBearer } from "./auth/bearer.js";
import { createPasswordResets } from "./auth/reset.js";
import { createMailer, type Mailer } from "./mail.js";
import { type CookieOptions } from "./auth/cookies.js";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords.js";
import { createSessionManager } from "./auth/sessions.js";
import { createApp } from "./app.js";
import { systemClock, type Clock } from "./clock.js";
import { loadConfig, type Config } from "./config.js";
import type { Deps } from "./deps.js";
import { withFastMe } from "./http/fast-me.js";
import { fixedHeaders } from "./http/middleware.js";
import { jsonError } from "./http/responses.js";
import { createLogger, type Logger } from "./log.js";
import type { Store } from "./store/store.js";

export interface LatchkeyOptions {
  store: Store;
  config?: Config;
  clock?: Clock;
  logger?: Logger;
  passwords?: PasswordHasher;
  /** Where password-reset emails go (default: SMTP_URL, or the log in development). */
  mailer?: Mailer;
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
  const checkSession = createSessionCheck(sessions, cookies);
  const authenticate = createAuthenticator(checkSession, cookies);
  const bearer = createBearer({ config, store, clock, logger });
  const mailer = options.mailer ?? createMailer(config, logger);
  const resets = createPasswordResets({ config, store, passwords, mailer, clock, logger });
  const deps: Deps = { config, store, sessions, passwords, authenticate, cookies, clock, logger, bearer, resets };
  const app = createApp(deps);

  let pruner: NodeJS.Timeout | undefined;
  const pruneNow = async () => {
    try {
      const removed = await sessions.prune(config.session.pruneBatchSize);
      const counters = await store.pruneCounters(clock(), config.session.pruneBatchSize);
      const tokens = (await store.tokens?.pruneTokens(clock(), config.session.pruneBatchSize)) ?? 0;
      if (removed + counters + tokens > 0) logger.info({ event: "store.pruned", sessions: removed, counters, tokens });
    } catch (err) {
      logger.warn({ event: "sessions.prune_failed", message: (err as Error).message });
    }
  };
  if (options.backgroundTasks !== false) {
    // Load (or in development create) the token signing key now, so its warning shows at start.
    if (store.tokens) bearer.warmUp().catch((err: Error) => logger.warn({ event: "tokens.key_failed", message: err.message }));
    pruner = setInterval(pruneNow, config.session.pruneIntervalMs);
    pruner.unref();
  }

  return {
    app,
    /** A Fetch-API handler: (request) => Promise<Response>. */
    fetch: (request: Request, env?: unknown) => app.fetch(request, env),
    /**
     * A Node `http` request listener: GET /me answered straight from Node's
     * request (same bytes, a fraction of the cost), everything else by the app.
     */
    nodeListener: withFastMe(
      { checkSession, cookies, logger, accessLog: config.accessLog, hsts: config.secureCookies },
      getRequestListener((request, env) => app.fetch(request, env), {
        hostname: config.host,
        errorHandler: (err) => unbuildableRequest(err, logger, config.secureCookies),
      }),
    ),
    authenticate,
    /** What a Cookie header proves: the signed-in user, "none" or "dead" (authenticate() without the Response). */
    checkSession,
    /** The user behind `Authorization: Bearer <access token>`, or the 401 Response. */
    authenticateBearer: bearer.authenticate,
    bearer,
    resets,
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

/**
 * The answer to a Node request that cannot become a Fetch Request (a
 * backslash in the path, a non-http absolute URL, a Host with spaces):
 * @hono/node-server would answer an empty 400 without the security headers.
 * It is the client's error, so it is not logged as a failure.
 */
function unbuildableRequest(err: unknown, logger: Logger, hsts: boolean): Response {
  const res =
    err instanceof RequestError
      ? jsonError(400, "Malformed request target or Host header")
      : (logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, "unhandled error"),
        jsonError(500, "Internal server error"));
  for (const [name, value] of fixedHeaders({ hsts })) if (!res.headers.has(name)) res.headers.set(name, value);
  res.headers.set("x-request-id", crypto.randomUUID());
  return res;
}
