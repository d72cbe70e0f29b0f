// The server as a process: start-up, the database file, config errors, and a graceful stop.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { client, uniqueEmail } from "./helpers/http.js";
import { postgresMigrations } from "../src/store/postgres/migrations.js";
import { ROOT, SERVER_ENTRY, spawnServer } from "./helpers/process.js";
import { FAST_ARGON2, tempDir } from "./helpers/server.js";
import { servicesAvailable, TEST_DATABASE_URL } from "./helpers/services.js";

describe("the server process", () => {
  it("creates its SQLite file on first start, survives a restart, and stops cleanly on SIGTERM", async () => {
    const dir = tempDir();
    try {
      const env = { ...FAST_ARGON2, DATABASE_URL: "sqlite:./nested/dir/latchkey.db" };
      const first = await spawnServer(env, dir.path);
      expect(existsSync(`${dir.path}/nested/dir/latchkey.db`)).toBe(true);
      const c = client(first.url);
      const email = uniqueEmail();
      await c.post("/signup", { email, password: "password123" });
      await c.post("/login", { email, password: "password123" });
      // A login in flight when SIGTERM arrives still completes.
      const inflight = fetch(`${first.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: "password123" }),
      });
      await new Promise((r) => setTimeout(r, 5));
      first.child.kill("SIGTERM");
      expect((await inflight).status).toBe(200);
      expect(await first.exited).toBe(0);
      expect(first.logs.some((l) => l.includes('"event":"server.stopped"'))).toBe(true);

      const second = await spawnServer(env, dir.path);
      const c2 = client(second.url);
      c2.cookie = c.cookie;
      expect((await c2.get("/me")).body.user.email).toBe(email);
      second.child.kill("SIGINT");
      expect(await second.exited).toBe(0);
    } finally {
      dir.remove();
    }
  });

  it("refuses to start on bad configuration with a clear message and exit code 2", () => {
    const res = spawnSync(process.execPath, [SERVER_ENTRY], {
      env: { ...process.env, PORT: "abc" },
      encoding: "utf8",
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('latchkey: PORT must be a whole number between 0 and 65535, got "abc"');
  });
});

/** The server started with `env` (expected to fail): its exit code and stderr. */
function failedStart(env: Record<string, string>, cwd?: string) {
  const dir = cwd ? undefined : tempDir();
  try {
    const res = spawnSync(process.execPath, [SERVER_ENTRY], {
      cwd: cwd ?? dir!.path,
      env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "info", HOST: "127.0.0.1", ...env },
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: res.status, stderr: res.stderr, lines: res.stderr.trim().split("\n") };
  } finally {
    dir?.remove();
  }
}

describe("a start that cannot succeed", () => {
  it("says so in one line and exits 1 when the port is in use", async () => {
    const dir = tempDir();
    const first = await spawnServer({ ...FAST_ARGON2, DATABASE_URL: "sqlite:./a.db" }, dir.path);
    try {
      const port = new URL(first.url).port;
      const res = failedStart({ PORT: port, DATABASE_URL: "sqlite:./b.db" }, dir.path);
      expect(res.status).toBe(1);
      expect(res.lines).toEqual([`latchkey: port ${port} is already in use on 127.0.0.1: stop the other server or set PORT`]);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
      dir.remove();
    }
  });

  it("says so in one line and exits 1 when PostgreSQL is unreachable, with the password masked", () => {
    const res = failedStart({ PORT: "0", DATABASE_URL: "postgres://app:s3cret@127.0.0.1:1/app", STORE_CONNECT_TIMEOUT: "500ms" });
    expect(res.status).toBe(1);
    expect(res.lines).toEqual(["latchkey: cannot reach the database (postgres://***@127.0.0.1:1/app): PostgreSQL unavailable: ECONNREFUSED"]);
    expect(res.stderr).not.toContain("s3cret");
  });

  it("refuses an unparsable DATABASE_URL in one line and exit 2, without its password on stderr", () => {
    const res = failedStart({ PORT: "0", DATABASE_URL: "postgres://app:se/cr@t@127.0.0.1:1/app" });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('got "postgres://***@127.0.0.1:1/app"');
    expect(res.stderr).not.toContain("se/cr");
    expect(res.stderr).not.toContain("cr@t");
  });

  it("names the problem when the database does not exist or its schema is not migrated", async (ctx) => {
    if (!(await servicesAvailable(["postgres"], "start-up failures on PostgreSQL"))) return ctx.skip();
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = "/latchkey_no_such_database";
    const missing = failedStart({ PORT: "0", DATABASE_URL: url.toString() });
    expect(missing.status).toBe(1);
    expect(missing.lines).toHaveLength(1);
    expect(missing.stderr).toContain("the database does not exist (check the name in DATABASE_URL)");

    const schema = `unmigrated_${process.pid}_${Date.now()}`;
    const unmigrated = failedStart({ PORT: "0", AUTO_MIGRATE: "false", DATABASE_URL: `${TEST_DATABASE_URL}?schema=${schema}` });
    expect(unmigrated.status).toBe(2);
    expect(unmigrated.lines).toEqual([`latchkey: PostgreSQL schema "${schema}" lacks migration(s) ${postgresMigrations.map((m) => m.version).join(", ")}: run \`latchkey migrate\` or set AUTO_MIGRATE=true`]);
  });

  it("lists every bad variable at once, LOG_LEVEL=verbose included, and exits 2", () => {
    const res = failedStart({ PORT: "abc", LOG_LEVEL: "verbose" });
    expect(res.status).toBe(2);
    expect(res.lines).toEqual([
      "latchkey: 2 configuration problems:",
      '  PORT must be a whole number between 0 and 65535, got "abc"',
      '  LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ]);
  });
});

describe("the first lines", () => {
  it("start with where it listens and on which database", async () => {
    const dir = tempDir();
    try {
      const server = await spawnServer({ ...FAST_ARGON2, NODE_ENV: "development", DATABASE_URL: "sqlite:./first.db" }, dir.path);
      server.child.kill("SIGTERM");
      await server.exited;
      const first = JSON.parse(server.logs[0]!) as Record<string, unknown>;
      expect(first).toMatchObject({ event: "server.listening", url: server.url, database: "sqlite:./first.db" });
      expect(first.msg).toBe(`listening on ${server.url}, database sqlite:./first.db`);
    } finally {
      dir.remove();
    }
  });

  it("warn when production runs on a plain-http PUBLIC_URL", async () => {
    const dir = tempDir();
    try {
      const env = { ...FAST_ARGON2, NODE_ENV: "production", PUBLIC_URL: "http://auth.example.com", JWT_SECRET: "x".repeat(32), DATABASE_URL: "sqlite:./p.db" };
      const server = await spawnServer(env, dir.path);
      server.child.kill("SIGTERM");
      await server.exited;
      expect(server.logs.some((l) => l.includes('"event":"config.plain_http_public_url"'))).toBe(true);
    } finally {
      dir.remove();
    }
  });
});

describe("npm start", () => {
  it("runs the server as npm's only child, and a SIGTERM to npm stops it with no orphan", async () => {
    const dir = tempDir();
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: ROOT,
      env: { ...process.env, ...FAST_ARGON2, NODE_ENV: "test", LOG_LEVEL: "info", PORT: "0", HOST: "127.0.0.1", DATABASE_URL: `sqlite:${dir.path}/npm.db` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(npm, "exit");
    let children: number[] = [];
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        npm.stdout!.on("data", (d) => {
          out += d;
          const m = /"event":"server.listening","url":"([^"]+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        exited.then(() => reject(new Error(`npm start exited before listening:\n${out}`)));
      });
      children = childrenOf(npm.pid!);
      expect(children).toHaveLength(1);
      expect(commandLine(children[0]!)).toMatch(/^node\S* \S*dist\/server\.js$/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      npm.kill("SIGTERM");
      await exited;
      expect(existsSync(`/proc/${children[0]}`)).toBe(false);
      expect(out).toContain('"event":"server.stopped"');
    } finally {
      // A failed assertion must not leave the server behind either.
      npm.kill("SIGKILL");
      for (const pid of children) if (existsSync(`/proc/${pid}`)) process.kill(pid, "SIGKILL");
      dir.remove();
    }
  }, 60_000);
});

function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).map((a, i) => (i === 0 ? a.split("/").pop()! : a)).join(" ");
}
