// createLatchkey(): builds everything from a config and a store, and hands
// back the app, a Fetch handler and the framework-free helpers.
import { getRequestListener } from "@hono/node-server";
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
import { createClientIpResolver, type PeerAddressHook } from "./http/client-ip.js";
import { withFastMe } from "./http/fast-me.js";
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
  /**
   * The peer address of a request, for runtimes whose Request does not carry
   * one (Deno, Bun, Workers): e.g. `(req) => server.requestIP(req)?.address`
   * on Bun, `(req) => req.headers.get("cf-connecting-ip")` on Workers, or
   * `(req, info) => info.remoteAddr.hostname` on Deno with
   * `Deno.serve((req, info) => latchkey.fetch(req, info))` (`env` is the second
   * argument given to fetch). It replaces the socket address on Node;
   * TRUST_PROXY is applied on top of it. Return null when unknown: per-IP
   * limits then do not apply to that request (see src/auth/rate-limit.ts).
   */
  clientIp?: PeerAddressHook;
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
  const clientIp = createClientIpResolver({
    trustProxy: config.trustProxy,
    header: config.trustProxyHeader,
    peer: options.clientIp,
    // Silent otherwise: a Deno/Bun/Workers deployment without the hook would simply have no per-IP limits.
    onFirstUnknown: () =>
      logger.warn({
        event: "client_ip.unknown",
        message: "A request came without a known client address: per-IP limits do not apply to it (pass createLatchkey({ clientIp }))",
      }),
  });
  const deps: Deps = { config, store, sessions, passwords, authenticate, cookies, clock, logger, bearer, resets, clientIp };
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
      getRequestListener((request, env) => app.fetch(request, env), { hostname: config.host }),
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
