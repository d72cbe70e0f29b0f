// Human-readable log lines for a developer at a terminal: `npm start` in
// development on a TTY prints "10:30:14 INFO  listening on http://localhost:3000, database ..."
// instead of JSON. Anything else (production, a pipe, a file, a log
// collector) keeps pino's JSON lines. LOG_FORMAT=json|pretty overrides.
import type { DestinationStream } from "pino";
import type { Config } from "./config.js";

const LEVELS: Record<number, [string, string]> = {
  10: ["TRACE", "\x1b[90m"],
  20: ["DEBUG", "\x1b[36m"],
  30: ["INFO ", "\x1b[32m"],
  40: ["WARN ", "\x1b[33m"],
  50: ["ERROR", "\x1b[31m"],
  60: ["FATAL", "\x1b[35m"],
};
const RESET = "\x1b[0m";
/** Fields every line has, or that the line's own words already show. */
const SKIP = new Set(["level", "time", "service", "msg", "event"]);

/** Whether this configuration's logs go to the terminal as readable lines. */
export function wantsPrettyLogs(config: Pick<Config, "env" | "logFormat">, isTTY = process.stdout.isTTY === true): boolean {
  if (config.logFormat === "pretty") return true;
  if (config.logFormat === "json") return false;
  return config.env === "development" && isTTY;
}

/** One pino JSON line -> "HH:MM:SS LEVEL message-or-event key=value ...". */
export function prettyLine(line: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : line + "\n";
  }
  const [name, tint] = LEVELS[entry.level as number] ?? ["LOG  ", ""];
  const time = typeof entry.time === "string" ? entry.time.slice(11, 19) : "";
  const head = typeof entry.msg === "string" ? entry.msg : String(entry.event ?? "");
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k) && !(typeof entry.msg === "string" && entry.msg.includes(String(entry[k]))))
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const level = color ? `${tint}${name}${RESET}` : name;
  return `${time} ${level} ${head}${fields.length ? "  " + fields.join(" ") : ""}\n`;
}

/** A pino destination writing readable lines to standard output (development only: one write per line). */
export function prettyStdout(): DestinationStream {
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  process.stdout.on("error", () => {});
  return { write: (line: string) => void process.stdout.write(prettyLine(line, color)) };
}
