// GET /me answered on Node's request listener, before Hono. It is the route
// every signed-in page load and API client calls, and the framework around it
// (a Request object, routing, five middleware layers of promises, a Response
// turned back into writeHead) cost several times the answer itself
// (bench/results/latest.md). This path sends the same status, headers and
// body as the Hono route (test/fast-me.test.ts compares them) and hands
// everything else to Hono: other methods and paths, a query string, and any
// /me whose session check fails (Hono then answers it, error mapping
// included).
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CheckSession, SessionCheck } from "../auth/authenticate.js";
import { clearSessionCookie, type CookieOptions } from "../auth/cookies.js";
import type { Logger } from "../log.js";
import type { User } from "../schemas.js";
import { createAccessLog, fixedHeaders } from "./middleware.js";

export interface FastMeOptions {
  checkSession: CheckSession;
  cookies: CookieOptions;
  logger: Logger;
  accessLog: boolean;
  hsts: boolean;
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A body and its Content-Length. */
type Body = readonly [string, string];
const body = (value: unknown): Body => {
  const text = JSON.stringify(value);
  return [text, String(Buffer.byteLength(text))];
};
const UNAUTHORIZED = body({ error: "Unauthorized" });

/** Bodies of frozen (session-cached) users, serialised once per cached row. */
const meBodies = new WeakMap<User, Body>();
function meBody(user: User): Body {
  if (!Object.isFrozen(user)) return body({ user });
  let cached = meBodies.get(user);
  if (!cached) meBodies.set(user, (cached = body({ user })));
  return cached;
}

/** Wraps Hono's Node listener: GET /me is answered here, everything else goes to `next`. */
export function withFastMe(options: FastMeOptions, next: NodeHandler): NodeHandler {
  const { checkSession } = options;
  const log = createAccessLog(options.logger, options.accessLog);
  const json = ["content-type", "application/json"];
  const fixed = fixedHeaders({ hsts: options.hsts }).flat();
  const plain = [...json, ...fixed];
  const deadCookie = [...json, "set-cookie", clearSessionCookie(options.cookies), ...fixed];

  /** Status, headers and body for what the cookie proved. */
  async function answerMe(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = log ? performance.now() : 0;
    let result: SessionCheck;
    try {
      result = await checkSession(req.headers.cookie);
    } catch {
      return next(req, res); // Hono answers it again, with its error mapping
    }
    const status = typeof result === "object" ? 200 : 401;
    const [body, length] = typeof result === "object" ? meBody(result.user) : UNAUTHORIZED;
    const requestId = randomUUID();
    // writeHead sends the head at once: without a length the body would be chunked.
    res.writeHead(status, [...(result === "dead" ? deadCookie : plain), "x-request-id", requestId, "content-length", length]);
    res.end(body);
    log?.({ requestId, method: "GET", path: "/me", status, started });
  }

  return (req, res) => {
    if (req.method === "GET" && req.url === "/me") void answerMe(req, res);
    else next(req, res);
  };
}
