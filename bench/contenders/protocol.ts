// How a contender process tells the runner it is listening: one line
// `BENCH_READY` on file descriptor 3 (a pipe the runner opens), so
// stdout stays free for the server's own logs, which go where a deployment's
// would: to a file descriptor nobody reads back in the hot path (/dev/null).
import { writeFileSync, writeSync } from "node:fs";
export interface ReadyInfo {
  port: number;
  /** Cookie header values of live sessions, for the authenticated scenarios. */
  cookies?: string[];
  /** A well-formed cookie that names no session, and the status the contender answers it with. */
  deadCookie?: string;
  deadStatus?: number;
  /** Free text shown next to the row (engine, params). */
  note?: string;
}

/** The details go to the file BENCH_READY_FILE names (they can exceed a pipe's buffer); the line says they are there. */
export function ready(info: ReadyInfo): void {
  const file = process.env.BENCH_READY_FILE;
  if (file) writeFileSync(file, JSON.stringify(info));
  writeSync(3, file ? "BENCH_READY\n" : `BENCH_READY ${JSON.stringify(info)}\n`);
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw ? Number(raw) : fallback;
}
