// Running Latchkey on Node's HTTP server: listen, slowloris timeouts, and a
// graceful stop that finishes in-flight requests before closing the store.
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { bootstrapAdmin } from "./auth/admin-bootstrap.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { fixedHeaders } from "./http/headers.js";
import { createLatchkey, type Latchkey } from "./latchkey.js";
import type { Logger } from "./log.js";
import { bodyTooLargeMessage } from "./refusals.js";
import { describeDatabase } from "./startup-errors.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/store.js";

export interface RunningServer {
  latchkey: Latchkey;
  server: Server;
  port: number;
  url: string;
  /** Stops accepting, waits for in-flight requests (up to the grace period), closes the store. */
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  store?: Store;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Waits for SIGTERM or SIGINT, then stops gracefully; resolves with the exit
 * code (0 stopped cleanly, 1 the stop failed). `npm start` and `latchkey serve`.
 */
export function untilSignalled(running: RunningServer): Promise<number> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      running.latchkey.logger.info({ event: "server.stopping", signal });
      running.close().then(() => resolve(0), () => resolve(1));
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const store = options.store ?? (await openStore(config));
  // Background tasks start once it listens, so the first line says where it listens.
  const latchkey = createLatchkey({ config, store, clock: options.clock, logger: options.logger, backgroundTasks: false });
  const { logger } = latchkey;
  const failStart = async (err: unknown) => {
    await latchkey.stop();
    if (!options.store) await store.close();
    return err;
  };
  // Before listening, so the first request already finds the admin (and a missing nodemailer stops the start).
  try {
    await latchkey.mailer.ready;
    await latchkey.mfa.assertKeyUsable(); // stored second factors need the DATA_ENCRYPTION_KEY that sealed them
    await bootstrapAdmin({ config, store, clock: options.clock ?? systemClock, logger, accounts: latchkey.accounts });
  } catch (err) {
    throw await failStart(err);
  }

  // Node checks the header/request timeouts only this often (30 s by default), so a
  // 10 s HEADERS_TIMEOUT could otherwise hold a stalled socket for 40 s.
  const connectionsCheckingInterval = Math.min(30_000, Math.max(250, config.headersTimeoutMs / 4));
  // Protocol-level answers keep the README's promise too (a JSON body and the
  // security headers), so Node does not answer them itself: a missing Host,
  // `OPTIONS *`, an unknown Expect, CONNECT and an oversized 100-continue.
  const protocol = protocolAnswers(config);
  const listener = protocol.guard(latchkey.nodeListener);
  const server = createServer({ connectionsCheckingInterval, requireHostHeader: false }, listener);
  server.on("checkContinue", protocol.checkContinue(listener));
  server.on("checkExpectation", (_req: IncomingMessage, res: ServerResponse) => protocol.answer(res, 417, "Unsupported Expect header"));
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => {});
    socket.end(protocol.raw(405, "CONNECT is not supported"));
  });
  try {
    // A port in use (EADDRINUSE) or not allowed (EACCES) rejects here instead of crashing the process.
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    throw await failStart(err);
  }
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = 5000;
  server.on("clientError", (err, socket) => {
    // Malformed or stalled HTTP never reaches the app; answer it in the usual
    // JSON error shape (as far as the socket still allows) and drop the socket.
    if (socket.writable) socket.end(protocol.raw(...clientErrorStatus((err as NodeJS.ErrnoException).code)));
    logger.debug({ event: "http.client_error", code: (err as NodeJS.ErrnoException).code });
  });

  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host && config.host !== "::" && config.host !== "0.0.0.0" ? config.host : "localhost"}:${port}`;
  const database = describeDatabase(config);
  logger.info({ event: "server.listening", url, store: store.engine, database }, `listening on ${url}, database ${database}`);
  if (config.env === "production" && config.publicUrl?.startsWith("http:")) {
    logger.warn(
      { event: "config.plain_http_public_url", publicUrl: config.publicUrl },
      "NODE_ENV=production with a plain-http PUBLIC_URL: browsers send the Secure session cookie only over https",
    );
  }
  latchkey.startBackgroundTasks();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = latchkey.stop(); // the webhook deliverer's last store writes, awaited before the store closes
      // server.close() alone only closes connections idle at that moment: a
      // kept-alive one (a proxy's, a browser's) that goes idle later would hold
      // the exit back until the keep-alive timeout or the grace period. So from
      // now on every answer asks its client not to reuse the connection, and
      // connections are closed as soon as they go idle. (Nothing of this runs
      // per request before a stop.)
      server.on("request", (_req, res: ServerResponse) => {
        if (!res.headersSent) res.setHeader("connection", "close");
      });
      const idleCloser = setInterval(() => server.closeIdleConnections(), 20);
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ event: "server.grace_expired" });
          server.closeAllConnections();
          resolve();
        }, config.shutdownGraceMs);
      });
      await Promise.race([drained, grace]);
      clearTimeout(timer);
      clearInterval(idleCloser);
      // Mails already being sent (reset, verification, email change, notices) go out before the store closes.
      await Promise.all([latchkey.resets.settle(), latchkey.verification.settle(), latchkey.emailChanges.settle(), latchkey.notices.settle(), latchkey.invitations.settle()]);
      await stopped;
      await store.close();
      logger.info({ event: "server.stopped" });
    })());

  return { latchkey, server, port, url, close };
}

/** The status and message for an HTTP-level failure Node reports before the app sees the request. */
function clientErrorStatus(code: string | undefined): [number, string] {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "Request headers are too large"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "Request took too long to arrive"];
    default:
      return [400, "Malformed HTTP request"];
  }
}

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** JSON error answers, with the security headers, for what Node sees before the app does. */
function protocolAnswers(config: Config) {
  const fixed = fixedHeaders({ hsts: config.secureCookies });
  const body = (message: string) => JSON.stringify({ error: message });
  const answer = (res: ServerResponse, status: number, message: string) => {
    const text = body(message);
    res.writeHead(status, [
      ["content-type", "application/json"],
      ...fixed,
      ["content-length", String(Buffer.byteLength(text))],
      ["x-request-id", randomUUID()], // every answer has one (README), even one no route gave
      ["connection", "close"],
    ]);
    res.end(text);
  };
  return {
    answer,
    /** A whole raw HTTP/1.1 answer, for sockets that have no ServerResponse. */
    raw(status: number, message: string): string {
      const text = body(message);
      const headers = [["Connection", "close"], ["Content-Type", "application/json"], ...fixed, ["X-Request-Id", randomUUID()], ["Content-Length", String(Buffer.byteLength(text))]];
      return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join("\r\n")}\r\n\r\n${text}`;
    },
    /**
     * Requests the app cannot route: no Host header (required by HTTP/1.1; an
     * HTTP/1.0 request, such as a load balancer's health check, may omit it and
     * is served as before), or the `*` target of `OPTIONS *`.
     */
    guard(next: NodeListener): NodeListener {
      return (req, res) => {
        if (req.headers.host === undefined && req.httpVersion !== "1.0") answer(res, 400, "Missing Host header");
        else if (req.url === "*") answer(res, 400, "Unsupported request target");
        else next(req, res);
      };
    },
    /** `Expect: 100-continue`: 413 at once for a declared size over the limit, else continue. */
    checkContinue(next: NodeListener): NodeListener {
      return (req, res) => {
        if (Number(req.headers["content-length"]) > config.bodyLimitBytes) {
          answer(res, 413, bodyTooLargeMessage(config.bodyLimitBytes));
          return;
        }
        res.writeContinue();
        next(req, res);
      };
    },
  };
}
