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

let stdout: ReturnType<typeof pino.destination> | undefined;

/**
 * Standard output, written asynchronously: a synchronous write per line cost
 * more than the rest of an authenticated request (bench/results). Lines still
 * go out at once when the process is idle; under load they are written in
 * batches. What is buffered is written synchronously when the process exits.
 */
function asyncStdout(): DestinationStream {
  if (!stdout) {
    const dest = pino.destination({ dest: 1, sync: false });
    process.once("exit", () => {
      try {
        dest.flushSync();
      } catch {
        // stdout already gone: nothing left to save the lines to
      }
    });
    stdout = dest;
  }
  return stdout;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "latchkey" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? (level === "silent" ? undefined : asyncStdout()),
  );
}
