// Structured JSON logs. Nothing secret is ever passed to the logger on
// purpose; the redaction list is the safety net for a field added by mistake.
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

export const REDACTED_PATHS = [
  "password",
  "*.password",
  "currentPassword",
  "newPassword",
  "passwordHash",
  "*.passwordHash",
  "token",
  "*.token",
  "tokenHash",
  "*.tokenHash",
  "refreshToken",
  "accessToken",
  "cookie",
  "headers.cookie",
  "headers.authorization",
];

let stdout: DestinationStream | undefined;

/**
 * Standard output in batches: the lines logged during one turn of the event
 * loop go out in one write when the turn ends. A write per line (sync, or
 * async through pino's sonic-boom) cost more than the rest of an
 * authenticated request (bench/results/latest.md). On Linux process.stdout
 * writes synchronously to files, pipes and terminals, so a batch is never
 * split, and the lines still pending when the process exits are written then.
 */
function batchedStdout(): DestinationStream {
  if (!stdout) {
    let pending: string[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const out = pending.join("");
      pending = [];
      process.stdout.write(out);
    };
    // A closed stdout (the log reader went away) must not bring the server down.
    process.stdout.on("error", () => {});
    process.once("exit", flush);
    stdout = {
      write(line: string) {
        if (pending.push(line) === 1) setImmediate(flush);
      },
    };
  }
  return stdout;
}

/** pino's isoTime, computed once per millisecond (under load many lines share one). */
let lastMs = -1;
let lastTime = "";
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** The loggers createLogger() made, and where each writes (see infoLineWriter). */
const destinations = new WeakMap<Logger, DestinationStream>();

/** The fields every line carries, and how pino writes them into each line. */
const BASE = { service: "latchkey" };
const BASE_FIELDS = `,${JSON.stringify(BASE).slice(1, -1)}`;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const out = destination ?? (level === "silent" ? undefined : batchedStdout());
  const logger = pino(
    {
      level,
      base: BASE,
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: isoTime,
    },
    out,
  );
  if (out) destinations.set(logger, out);
  return logger;
}

/**
 * For lines logged on every request whose fields are fixed and never secret
 * (the access log): writes an info line exactly as a createLogger() logger
 * would, from fields already serialised as `,"key":value...`, without pino's
 * per-call work (iterating the object, serialisers, the redaction pass).
 * Undefined for a logger createLogger() did not make.
 */
export function infoLineWriter(logger: Logger): ((fields: string) => void) | undefined {
  const out = destinations.get(logger);
  if (!out) return undefined;
  const info = logger.levels.values.info!;
  return (fields) => {
    if (logger.levelVal <= info) out.write(`{"level":${info}${isoTime()}${BASE_FIELDS}${fields}}\n`);
  };
}
