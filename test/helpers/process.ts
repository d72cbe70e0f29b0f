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

export async function spawnServer(env: Record<string, string>, cwd = ROOT): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd,
    env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "info", PORT: "0", HOST: "127.0.0.1", ...RELAXED_ABUSE_LIMITS, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: string[] = [];
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        logs.push(line);
        const m = /"event":"server.listening","url":"([^"]+)"/.exec(line);
        if (m) resolve(m[1]!);
      }
    });
    child.stderr!.on("data", (d) => logs.push(String(d)));
    exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${logs.join("\n")}`)));
  });
  return { child, url, logs, exited };
}
