// A real webhook receiver on a loopback port: records every request, checks
// each signature with the Standard Webhooks reference library (the same
// `new Webhook(secret).verify(body, headers)` a user's receiver runs), and
// answers as the test says: a status, never (hang), or not at all (down).
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body, when its signature verified (else null). */
  payload: WebhookPayload | null;
  verified: boolean;
  /** The request target (path and query). */
  path: string;
  /** What this receiver answered (the status, or "hang"). */
  answered: number | "hang";
}

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: { id: string; type: string; at: string; userId: string | null; actorId: string | null; sessionId: string | null; ip: string | null; userAgent: string | null; details: Record<string, unknown> };
}

/** The answer to the nth request (0-based) or for this delivery. */
export type Responder = (r: Omit<Received, "answered">, n: number) => number | "hang";
// A 3xx answer carries `location: <this receiver's url>?followed=1`, so a followed redirect would show.

/** A fresh secret in Standard Webhooks form. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Requests that arrived while another with the same webhook-id was still being answered (two senders at once). */
  overlaps: string[];
  /** Answers are sent this long after a request arrived (widens the window overlaps are seen in). */
  delay(ms: number): void;
  /** Changes how later requests are answered. */
  respond(responder: Responder | number | "hang"): void;
  /** Resolves once `check(received)` holds (re-checked on every request); the test's timeout bounds the wait. */
  until(check: (received: Received[]) => boolean): Promise<void>;
  /** Resolves once a request has arrived and is being held (hang). */
  hanging(): Promise<void>;
  /** Closes the port: connections are refused until up(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string, path = "/hook"): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: Received[] = [];
  let responder: Responder = () => 200;
  let waiters: { check: (r: Received[]) => boolean; resolve: () => void }[] = [];
  let hangWaiters: (() => void)[] = [];
  const held = new Set<ServerResponse>();
  const overlaps: string[] = [];
  const inFlight = new Map<string, number>();
  let delayMs = 0;
  const sockets = new Set<Socket>();

  const notify = () => {
    waiters = waiters.filter((w) => (w.check(received) ? (w.resolve(), false) : true));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const arriving = String(req.headers["webhook-id"] ?? "");
    if ((inFlight.get(arriving) ?? 0) > 0) overlaps.push(arriving);
    inFlight.set(arriving, (inFlight.get(arriving) ?? 0) + 1);
    const done = () => inFlight.set(arriving, inFlight.get(arriving)! - 1);
    res.on("close", done);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": String(req.headers["webhook-id"] ?? ""),
        "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
        "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
      };
      let payload: WebhookPayload | null = null;
      try {
        payload = verifier.verify(body, headers) as WebhookPayload;
      } catch {
        payload = null;
      }
      const entry = { path: req.url ?? "", id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"], body, payload, verified: payload !== null };
      const answer = req.method === "POST" && (req.url ?? "").split("?")[0] === path ? responder(entry, received.length) : 404;
      if (answer === "hang") {
        received.push({ ...entry, answered: answer });
        held.add(res);
        for (const w of hangWaiters) w();
        hangWaiters = [];
        notify();
        return;
      }
      // Recorded once answered: a test that sees it acknowledged knows the sender got the 2xx (unless cut).
      const reply = () => {
        const redirect = answer >= 300 && answer < 400 ? { location: `http://127.0.0.1:${port}${path}?followed=1` } : {};
        res.writeHead(answer, { "content-type": "text/plain", ...redirect }).end("ok");
        received.push({ ...entry, answered: answer });
        notify();
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    });
  };

  const server = createServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const listen = (port: number) => new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const shut = () => new Promise<void>((resolve) => {
    for (const res of held) res.destroy();
    held.clear();
    for (const s of sockets) s.destroy();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
  await listen(0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    overlaps,
    delay(ms) {
      delayMs = ms;
    },
    respond(r) {
      responder = typeof r === "function" ? r : () => r;
    },
    until(check) {
      if (check(received)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ check, resolve }));
    },
    hanging() {
      if (held.size > 0) return Promise.resolve();
      return new Promise((resolve) => hangWaiters.push(resolve));
    },
    down: shut,
    up: () => listen(port),
    close: shut,
  };
}
