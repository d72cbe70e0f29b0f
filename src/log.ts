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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "latchkey" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
