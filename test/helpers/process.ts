// The real server as a child process, as `npm start` runs it.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { RELAXED_ABUSE_LIMITS } from "./server.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** `node --import tsx` resolved from the project, so the child may run TypeScript in any directory. */
export const TSX_LOADER = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  logs: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** The compiled entry point `npm start` runs (`node dist/server.js`; the tests' global setup builds it). */
export const SERVER_ENTRY = `${ROOT}/dist/server.js`;

/** How a child's output is kept: each stdout line (return false to leave it out of `logs`), each stderr chunk. */
export interface OutputFilters {
  onLine?: (line: string) => boolean;
  onStderr?: (text: string) => boolean;
}

/**
 * A server child process, resolved once it logs `server.listening` (with its
 * URL); rejects if it exits first. The one place that waits for a server.
 */
export async function spawnListening(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; maxLogs?: number } & OutputFilters,
): Promise<{ child: ChildProcess; url: string; logs: string[]; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: string[] = [];
  const keep = (line: string) => {
    if (logs.length < (options.maxLogs ?? Infinity)) logs.push(line);
  };
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (options.onLine?.(line) === false) continue;
        keep(line);
        const m = /"event":"server.listening","url":"([^"]+)"/.exec(line);
        if (m) resolve(m[1]!);
      }
    });
    child.stderr!.on("data", (d) => {
      const text = String(d);
      if (options.onStderr?.(text) !== false) logs.push(text);
    });
    exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) before listening:\n${logs.join("\n")}`)));
  });
  return { child, url, logs, exited };
}

/** The compiled server (`npm start`) with the test defaults; `exited` resolves with the exit code. */
export async function spawnServer(env: Record<string, string>, cwd = ROOT): Promise<ServerProcess> {
  const started = await spawnListening([SERVER_ENTRY], {
    cwd,
    env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "info", PORT: "0", HOST: "127.0.0.1", ...RELAXED_ABUSE_LIMITS, ...env },
  });
  return { ...started, exited: started.exited.then(({ code }) => code) };
}
