// Node's request listener: a few exact routes (app.ts nodeLanes: GET /me)
// are answered here, before Hono; everything else goes to Hono's listener.
// The framework around an answer (a Request object, routing, five layers of
// middleware promises, a Response turned back into writeHead) costs several
// times the answer itself (bench/NOTES.md). A lane decides nothing of its
// own: its route module computes the Answer that Hono's route also writes,
// and a lane that throws is answered here through the same error mapping as
// Hono's onError, so a failing store is asked once, not once per side.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { createAccessLog } from "./access-log.js";
import { writeAnswer, type Answer } from "./answer.js";
import { errorAnswer } from "./errors.js";
import { fixedHeaders } from "./headers.js";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers one exact "METHOD /path" (no query string) from Node's request. */
export type NodeLane = (req: IncomingMessage) => Promise<Answer>;

export interface NodeListenerOptions {
  logger: Logger;
  accessLog: boolean;
  hsts: boolean;
  metrics: Metrics;
}

export function createNodeListener(lanes: Record<string, NodeLane>, options: NodeListenerOptions, next: NodeHandler): NodeHandler {
  const log = createAccessLog(options.logger, options.accessLog);
  const fixed = fixedHeaders({ hsts: options.hsts }).flat();
  const byRoute = new Map(Object.entries(lanes));
  const { metrics } = options;

  async function serve(lane: NodeLane, req: IncomingMessage, res: ServerResponse, method: string, path: string) {
    const started = log || metrics.enabled ? performance.now() : 0;
    const requestId = randomUUID();
    let a: Answer;
    try {
      a = await lane(req);
    } catch (err) {
      a = errorAnswer(err, requestId, options.logger, metrics);
    }
    writeAnswer(res, a, fixed, requestId);
    log?.({ requestId, method, path, status: a.status, started });
    if (metrics.enabled) metrics.request(path, method, a.status, started); // a lane's path is its route
  }

  return (req, res) => {
    const method = req.method ?? "";
    const path = req.url ?? "";
    const lane = byRoute.get(`${method} ${path}`);
    if (lane) void serve(lane, req, res, method, path);
    else next(req, res);
  };
}
