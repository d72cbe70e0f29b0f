// The access log: one line per request, written by Hono's requestContext
// middleware and by the Node lanes (node-listener.ts) alike.
import { infoLineWriter, type Logger } from "../log.js";

/** What one access-log line says about a request. */
export interface AccessLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  /** When the request began (performance.now()). */
  started: number;
}

/**
 * The access log (one line per request), or undefined when ACCESS_LOG=off or
 * info is not logged. The line carries only fixed, non-secret fields, so it
 * skips pino's per-call work where the logger allows (infoLineWriter), and
 * else goes through a child logger without the redaction pass.
 */
export function createAccessLog(logger: Logger, enabled: boolean): ((line: AccessLine) => void) | undefined {
  if (!enabled || !logger.isLevelEnabled("info")) return undefined;
  const ms = (started: number) => Math.round((performance.now() - started) * 100) / 100;
  const write = infoLineWriter(logger);
  if (write) {
    const str = JSON.stringify;
    return ({ requestId, method, path, status, started }) =>
      write(`,"requestId":${str(requestId)},"method":${str(method)},"path":${str(path)},"status":${status},"ms":${ms(started)}`);
  }
  const access = logger.child({}, { redact: [] });
  return ({ requestId, method, path, status, started }) => access.info({ requestId, method, path, status, ms: ms(started) });
}
