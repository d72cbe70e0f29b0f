// Shared pieces of the reliability suites: the real server as a child process
// (as `npm start` runs it), a small HTTP call that tells a network failure
// from an answer, and the summary line each suite prints.
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { ROOT, spawnListening, TSX_LOADER } from "../helpers/process.js";
import { FAST_ARGON2 } from "../helpers/server.js";

export const env = process.env;
/** The checkout whose server the suites start (RELIABILITY_SERVER_ROOT: try them against another build). */
export const SERVER_ROOT = env.RELIABILITY_SERVER_ROOT || ROOT;
export const num = (name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return n;
};

export interface ServerChild {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Log lines other than per-request access lines (those would fill memory in a soak). */
  logs: string[];
  /** Access-log lines with a 5xx status, whatever the client saw. */
  serverErrors: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident set size of the server process, from /proc (Linux). */
  rssKiB(): number;
  kill(signal: NodeJS.Signals): void;
  /** Full GC in the server (needs the gc hook, see startServerProcess), then its RSS in KiB. */
  rssAfterGcKiB(): Promise<number>;
  /** The gc hook's own reports (heap and RSS after each forced GC). */
  gcReports: string[];
}

export interface StartOptions {
  /** Load test/reliability/gc-hook.mjs with --expose-gc, for rssAfterGcKiB(). */
  gcHook?: boolean;
}

/**
 * These suites are many clients on one IP on purpose: rate limits, lockouts and
 * the hasher's queue bound (names from the abuse-resistance work; ignored by a
 * build without them) are lifted so they measure durability, not throttling.
 */
export const UNTHROTTLED: Record<string, string> = {
  LOGIN_IP_LIMIT: "1000000000",
  LOGIN_EMAIL_LIMIT: "1000000000",
  SIGNUP_IP_LIMIT: "1000000000",
  LOCKOUT_THRESHOLD: "1000000000",
  LOCKOUT_ACCOUNT_THRESHOLD: "1000000000",
  ARGON2_MAX_QUEUE: "100000",
};

/** The server on the given database, listening on a free port; resolves once it listens. */
export async function startServerProcess(extraEnv: Record<string, string>, options: StartOptions = {}): Promise<ServerChild> {
  // RELIABILITY_NODE_ARGS: extra node flags for the server (e.g. --max-old-space-size=64 when chasing memory).
  const nodeArgs = (env.RELIABILITY_NODE_ARGS ?? "").split(" ").filter(Boolean);
  if (options.gcHook) nodeArgs.push("--expose-gc", "--import", new URL("./gc-hook.mjs", import.meta.url).href);
  let gcWaiters: (() => void)[] = [];
  const gcReports: string[] = [];
  const serverErrors: string[] = [];
  const { child, url, logs, exited } = await spawnListening([...nodeArgs, "--import", TSX_LOADER, `${SERVER_ROOT}/src/server.ts`], {
    cwd: SERVER_ROOT,
    env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "info", PORT: "0", HOST: "127.0.0.1", ...FAST_ARGON2, ...UNTHROTTLED, ...extraEnv },
    maxLogs: 2000,
    // Access lines are not kept (they would fill memory in a soak); those with a 5xx status are counted.
    onLine: (line) => {
      const status = /"status":(\d{3})/.exec(line);
      if (status && Number(status[1]) >= 500) serverErrors.push(line);
      return !status;
    },
    onStderr: (text) => {
      const gcLine = /reliability-gc-done (.*)/.exec(text);
      if (!gcLine) return true;
      gcReports.push(gcLine[1]!);
      for (const w of gcWaiters) w();
      gcWaiters = [];
      return false;
    },
  });
  const pid = child.pid!;
  const rssKiB = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  };
  return {
    child,
    pid,
    url,
    logs,
    serverErrors,
    exited,
    rssKiB,
    gcReports,
    async rssAfterGcKiB() {
      if (!options.gcHook) throw new Error("rssAfterGcKiB needs startServerProcess(..., { gcHook: true })");
      const done = new Promise<void>((resolve) => gcWaiters.push(resolve));
      child.kill("SIGUSR2");
      await done;
      return rssKiB();
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Ends a server that may or may not still run, and waits for it. */
export async function stopServerProcess(s: ServerChild | undefined): Promise<void> {
  if (!s) return;
  s.kill("SIGKILL");
  await s.exited;
}

export interface Answer {
  status: number;
  body: any;
  setCookie: string | null;
}

/**
 * One HTTP call. Resolves with the whole answer, or rejects when the exchange
 * did not complete (connection refused or cut): the caller then knows nothing
 * about the outcome.
 */
export async function call(base: string, method: string, path: string, options: { body?: unknown; cookie?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.cookie) headers.cookie = options.cookie;
  const res = await fetch(base + path, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    redirect: "manual",
  });
  const text = await res.text(); // a cut body rejects here: not an acknowledgement
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, setCookie: res.headers.get("set-cookie") };
}

/** "session=abc; HttpOnly; ..." -> "session=abc", or null for a clearing cookie. */
export function sessionPair(setCookie: string | null): string | null {
  if (!setCookie || /Max-Age=0/.test(setCookie)) return null;
  return setCookie.split(";")[0]!;
}

/** Whether an optional route exists on this build: anything but 404 counts as present. */
export async function routeExists(base: string, method: string, path: string): Promise<boolean> {
  return (await call(base, method, path, { body: {} })).status !== 404;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
export const uniqueEmail = (tag: string) => `${tag}-${process.pid}-${Date.now().toString(36)}-${++seq}@example.com`;
export const randomPassword = () => `pw-${Math.random().toString(36).slice(2)}-${++seq}`;

/** The one line each suite prints at its end, easy to grep from CI logs. */
export function summary(suite: string, figures: Record<string, string | number>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  console.log(`[reliability] ${suite}: ${parts.join(" ")}`);
}
