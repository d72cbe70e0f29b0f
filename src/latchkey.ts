// createLatchkey(): builds everything from a config and a store, and hands
// back the app, a Fetch handler and the framework-free helpers.
import { getRequestListener, RequestError } from "@hono/node-server";
import { createAuthenticator, createSessionCheck } from "./auth/authenticate.js";
import { createBearer } from "./auth/bearer.js";
import { createPasswordResets } from "./auth/reset.js";
import { createEmailVerification } from "./auth/verification.js";
import { createEmailChanges } from "./auth/email-change.js";
import { createInvitations } from "./auth/invitations.js";
import { createMfa } from "./auth/mfa.js";
import { createNotices } from "./auth/notices.js";
import { createMailer, type Mailer } from "./mail.js";
import { type CookieOptions } from "./auth/cookies.js";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords.js";
import { createSessionManager } from "./auth/sessions.js";
import { createAccounts } from "./auth/accounts.js";
import { createApp, nodeLanes } from "./app.js";
import { systemClock, type Clock } from "./clock.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createSqliteStore } from "./engines.js";
import { Hono } from "hono";
import { normalizeBasePath } from "./base-path.js";
import type { AppEnv, Deps } from "./deps.js";
import { createClientIpResolver, type PeerAddressHook } from "./http/client-ip.js";
import { fixedHeaders } from "./http/headers.js";
import { createNodeListener } from "./http/node-listener.js";
import { createMetrics, noMetrics, sessionCacheSource } from "./metrics.js";
import { refuse } from "./refusals.js";
import { createLogger, type Logger } from "./log.js";
import { prettyStdout, wantsPrettyLogs } from "./log-pretty.js";
import { measuredStore } from "./store/measured.js";
import type { Store } from "./store/store.js";
import { createDeliverer } from "./webhooks/deliverer.js";

export interface LatchkeyOptions {
  /**
   * Default: the SQLite database DATABASE_URL names (sqlite:./data/latchkey.db
   * unless set), the same one the CLI and `npm start` use; close() closes it.
   * PostgreSQL/Redis open asynchronously: pass `await openStore(config)`.
   */
  store?: Store;
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
  /**
   * The path the app is mounted under, e.g. "/auth" (default: BASE_PATH or the
   * path of PUBLIC_URL): links, redirects and the reset link carry it, and
   * `fetch`/`nodeListener` serve the routes under it. `app` stays relative:
   * mount it with `hono.route(basePath, latchkey.app)`.
   */
  basePath?: string;
  /** Run the expired-session pruner in the background (default true). */
  backgroundTasks?: boolean;
}

export function createLatchkey(options: LatchkeyOptions = {}) {
  const config = withBasePath(options.config ?? loadConfig(), options.basePath);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel, wantsPrettyLogs(config) ? prettyStdout() : undefined);
  const ownsStore = !options.store;
  const engineStore = options.store ?? openConfiguredSqlite(config);
  const passwords = options.passwords ?? createPasswordHasher(config.argon2);
  const metrics = config.metricsToken
    ? createMetrics({
        hasherQueued: () => passwords.queued ?? 0,
        sessionCache: sessionCacheSource(engineStore),
        webhookBacklog: config.webhooks ? () => engineStore.webhooks.backlog() : undefined,
      })
    : noMetrics;
  // Timed only with metrics on: without METRICS_TOKEN every call goes straight to the engine's object.
  const store = metrics.enabled ? measuredStore(engineStore, metrics) : engineStore;
  const cookies: Required<CookieOptions> = {
    secure: config.secureCookies,
    maxAgeSeconds: Math.floor(config.session.absoluteLifetimeMs / 1000),
  };
  const sessions = createSessionManager(store, config.session, clock);
  const checkSession = createSessionCheck(sessions, cookies);
  const authenticate = createAuthenticator(checkSession, cookies);
  const bearer = createBearer({ config, store, clock, logger });
  const mailer = options.mailer ?? createMailer(config, logger);
  const accounts = createAccounts({ store, sessions, passwords, clock, config });
  const resets = createPasswordResets({ config, store, accounts, mailer, clock, logger });
  const verification = createEmailVerification({ config, store, mailer, clock, logger });
  const emailChanges = createEmailChanges({ config, store, accounts, resets, mailer, clock, logger });
  const notices = createNotices({ config, store, emailChanges, mailer, logger });
  const mfa = createMfa({ config, store, clock, logger });
  const invitations = createInvitations({ config, store, accounts, mailer, clock, logger });
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
  const deps: Deps = { config, store, sessions, accounts, passwords, checkSession, authenticate, cookies, clock, logger, bearer, resets, verification, emailChanges, notices, mfa, invitations, clientIp, metrics };
  const app = createApp(deps);
  // What fetch/nodeListener serve: the app itself, or the app under the prefix.
  const served = config.basePath ? new Hono<AppEnv>().route(config.basePath, app) : app;

  function nodeListener() {
    const listener = getRequestListener((request, env) => served.fetch(request, env), {
      hostname: config.host,
      errorHandler: (err) => unbuildableRequest(err, logger, config.secureCookies),
    });
    // The lanes answer literal paths; under a prefix everything goes through the app.
    if (config.basePath) return listener;
    return createNodeListener(nodeLanes(deps), { logger, accessLog: config.accessLog, hsts: config.secureCookies, metrics }, listener);
  }

  // WEBHOOK_URL: this instance drains the outbox too (claims keep instances apart).
  const deliverer = config.webhooks ? createDeliverer({ outbox: store.webhooks, config: config.webhooks, clock, logger }) : undefined;

  let pruner: NodeJS.Timeout | undefined;
  const pruneNow = async () => {
    try {
      const pruned = await accounts.prune();
      if (pruned.sessions + pruned.counters + pruned.tokens + pruned.events > 0) logger.info({ event: "store.pruned", ...pruned });
    } catch (err) {
      logger.warn({ event: "sessions.prune_failed", message: (err as Error).message });
    }
  };
  const startBackgroundTasks = () => {
    if (pruner) return;
    // Load (or in development create) the token signing key now, so its warning shows at start.
    bearer.warmUp().catch((err: Error) => logger.warn({ event: "tokens.key_failed", message: err.message }));
    pruner = setInterval(pruneNow, config.session.pruneIntervalMs);
    pruner.unref();
    deliverer?.start();
  };
  if (options.backgroundTasks !== false) startBackgroundTasks();

  return {
    app,
    /** A Fetch-API handler: (request) => Promise<Response>. */
    fetch: (request: Request, env?: unknown) => served.fetch(request, env),
    /**
     * A Node `http` request listener: GET /me answered straight from Node's
     * request (same bytes, a fraction of the cost), everything else by the app.
     */
    nodeListener: nodeListener(),
    authenticate,
    /** What a Cookie header proves: the signed-in user, "none" or "dead" (authenticate() without the Response). */
    checkSession,
    /** Bearer tokens: `bearer.authenticate(request)` is the user behind `Authorization: Bearer`, or the 401. */
    bearer,
    /** The account lifecycle (create, setPassword, changeRole, remove, endSessions, prune): what ends when. */
    accounts,
    resets,
    verification,
    emailChanges,
    notices,
    /** Second factors (auth/mfa.ts): enrolment, codes, recovery codes, two-step login challenges. */
    mfa,
    /** POST /users/invite: accounts made by an admin, and their set-your-password links. */
    invitations,
    cookies,
    sessions,
    store,
    config,
    logger,
    pruneNow,
    mailer,
    /** Starts what `backgroundTasks: false` held back (startServer: once it listens, so that line comes first). */
    startBackgroundTasks,
    /**
     * Webhooks: `stats()` of this instance's deliverer (null without
     * WEBHOOK_URL), and `backlog()` of the shared outbox (pending and failed
     * deliveries, for metrics at scrape time).
     */
    webhooks: {
      stats: () => deliverer?.stats() ?? null,
      backlog: () => store.webhooks.backlog(),
    },
    /**
     * Stops background work; resolves once the webhook deliverer's store
     * writes are done (attempts in flight are abandoned, their lease makes
     * them due again). The store stays open: its owner closes it.
     */
    async stop(): Promise<void> {
      if (pruner) clearInterval(pruner);
      await deliverer?.stop();
    },
    /** stop(), then closes the store if createLatchkey() opened it (no `store` option). */
    async close() {
      if (pruner) clearInterval(pruner);
      await deliverer?.stop();
      if (ownsStore) await store.close();
    },
  };
}

function withBasePath(config: Config, basePath: string | undefined): Config {
  if (basePath === undefined) return config;
  const normalized = normalizeBasePath(basePath);
  if (normalized === undefined) throw new ConfigError(`basePath must be a plain path like /auth, got "${basePath}"`);
  return { ...config, basePath: normalized };
}

/** The store of createLatchkey() without a `store` option: what DATABASE_URL names, if it can open synchronously. */
function openConfiguredSqlite(config: Config): Store {
  if (config.database.kind !== "sqlite" || config.redis) {
    throw new ConfigError(
      "createLatchkey() opens only an SQLite DATABASE_URL by itself; for PostgreSQL or Redis pass { store: await openStore(config) }",
    );
  }
  return createSqliteStore(config.database.path, { sessionCacheSize: config.session.cacheSize, webhookEvents: config.webhooks !== null });
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
      ? refuse("malformedRequest")
      : (logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, "unhandled error"),
        refuse("internal"));
  for (const [name, value] of fixedHeaders({ hsts })) if (!res.headers.has(name)) res.headers.set(name, value);
  res.headers.set("x-request-id", crypto.randomUUID());
  return res;
}
