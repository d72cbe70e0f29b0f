// The CLI as an operator runs it: the real bin/latchkey.js in a child process,
// against a temporary SQLite file (and, where sessions matter, a real server on it).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookiePair, request, uniqueEmail } from "./helpers/http.js";
import { ROOT } from "./helpers/process.js";
import { FAST_ARGON2, startTestServer, tempDir, type TestServer } from "./helpers/server.js";

const BIN = join(ROOT, "bin/latchkey.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `latchkey ...args` with `input` on stdin (a pipe, so never a TTY). */
async function cli(args: string[], options: { env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Result> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: "test", ...FAST_ARGON2, ...options.env };
  delete env.LATCHKEY_ADMIN_EMAIL;
  delete env.LATCHKEY_ADMIN_PASSWORD;
  Object.assign(env, options.env);
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? dir.path, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(options.input ?? "");
  const [code] = await once(child, "exit");
  return { code: code as number | null, stdout, stderr };
}

let dir: ReturnType<typeof tempDir>;
let dbPath: string;
let db: Record<string, string>;
beforeAll(() => {
  dir = tempDir("latchkey-cli-");
  dbPath = join(dir.path, "latchkey.db");
  db = { DATABASE_URL: `sqlite:${dbPath}` };
});
afterAll(() => dir.remove());

const COMMANDS = ["serve", "migrate", "users create", "users list", "users set-role", "users set-email", "users disable", "users enable", "users delete", "sessions revoke", "sessions prune", "events list"];

describe("arguments and help", () => {
  it("--help lists every command and exits 0; no arguments prints usage to stderr and exits 2", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const name of COMMANDS) expect(help.stdout).toContain(`  ${name} `);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage: latchkey <command>");
  });

  it("answers --help for every group and command, without touching a database", async () => {
    const nowhere = { DATABASE_URL: `sqlite:${join(dir.path, "never", "x.db")}` };
    const results = await Promise.all([
      cli(["users", "--help"], { env: nowhere }),
      cli(["sessions", "-h"], { env: nowhere }),
      ...COMMANDS.map((name) => cli([...name.split(" "), "--help"], { env: nowhere })),
    ]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(results[0]!.stdout).toContain("latchkey users create --email <email> [--admin]");
    expect(results[1]!.stdout).toContain("latchkey sessions revoke --user <email>");
    COMMANDS.forEach((name, i) => expect(results[i + 2]!.stdout).toContain(`Usage: latchkey ${name}`));
    expect(existsSync(join(dir.path, "never"))).toBe(false);
  });

  it.each([
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["users", "rename"], 'unknown command "users rename"'],
    [["users", "create"], "--email is required"],
    [["users", "create", "--email"], "Option '--email <value>' argument missing"],
    [["users", "create", "--email", "x", "--bogus"], "Unknown option '--bogus'"],
    [["users", "list", "extra"], "Unexpected argument 'extra'"],
    [["users", "set-role", "--email", "x", "--role", "root"], '--role must be user or admin, got "root"'],
    [["sessions", "revoke"], "--user is required"],
  ])("refuses %j with exit code 2 and says why", async (args, message) => {
    const res = await cli(args, { env: db });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stdout).toBe("");
  });

  it("refuses bad configuration with exit code 2", async () => {
    const res = await cli(["migrate"], { env: { DATABASE_URL: "mysql://nope" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("latchkey: DATABASE_URL must start with sqlite: or postgres://");
  });
});

describe("a missing database", () => {
  it.each([["users", "list"], ["users", "delete", "--email", "a"], ["sessions", "revoke", "--user", "a"], ["sessions", "prune"]])(
    "`%s %s` says so, exits 1 and creates nothing",
    async (...args) => {
      const missing = join(dir.path, "missing-dir", "latchkey.db");
      const res = await cli(args, { env: { DATABASE_URL: `sqlite:${missing}` } });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`No database at ${missing} (from DATABASE_URL): run "latchkey migrate" first`);
      expect(existsSync(join(dir.path, "missing-dir"))).toBe(false);
    },
  );
});

describe("migrate and users", () => {
  const admin = uniqueEmail("cli-admin");
  const bob = uniqueEmail("cli-bob");

  it("migrate creates the database (and its directory)", async () => {
    const res = await cli(["migrate"], { env: db });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(`Database is up to date (sqlite at ${dbPath})\n`);
    expect(existsSync(dbPath)).toBe(true);
    expect((await cli(["migrate"], { env: db })).code).toBe(0); // again: nothing to do, still fine
    expect((await cli(["users", "list"], { env: db })).stdout).toBe("No users\n");
  });

  it("users create reads the password from stdin and refuses bad ones", async () => {
    const created = await cli(["users", "create", "--email", admin.toUpperCase(), "--admin"], { env: db, input: "admin passphrase\n" });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(new RegExp(`^Created admin ${admin.replace(/\./g, "\\.")} \\(id [0-9a-f-]{36}\\)\\n$`));

    const short = await cli(["users", "create", "--email", bob], { env: db, input: "short\n" });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("Password must be at least 8 characters");
    expect(short.stderr).not.toContain("short\n");
    const empty = await cli(["users", "create", "--email", bob], { env: db, input: "" });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("No password on standard input");

    expect((await cli(["users", "create", "--email", bob], { env: db, input: "bob password 1\r\n" })).code).toBe(0);
    const dup = await cli(["users", "create", "--email", bob], { env: db, input: "bob password 1\n" });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain(`An account with email ${bob} already exists`);
  });

  it("users list shows the accounts as a table or JSON, filtered by prefix, and never a hash", async () => {
    const table = await cli(["users", "list"], { env: db });
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+EMAIL\s+ROLE\s+CREATED\s+LAST LOGIN$/);
    expect(lines).toHaveLength(3);
    expect(table.stdout).not.toContain("argon2");
    const json = JSON.parse((await cli(["users", "list", "--json", "--email", "CLI-BOB"], { env: db })).stdout);
    expect(json).toEqual([{ id: expect.any(String), email: bob, role: "user", createdAt: expect.any(String), lastLoginAt: null }]);
  });

  it("finds an account by any spelling of its email (NFD, upper case) and refuses invisible characters", async () => {
    const renee = `ren\u00e9e-${uniqueEmail("cli")}`; // precomposed "é"
    const variant = renee.normalize("NFD").toUpperCase();
    expect((await cli(["users", "create", "--email", renee], { env: db, input: "renee password 1\n" })).code).toBe(0);
    const dup = await cli(["users", "create", "--email", variant], { env: db, input: "renee password 1\n" });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("already exists");
    const listed = JSON.parse((await cli(["users", "list", "--json", "--email", variant.slice(0, 8)], { env: db })).stdout);
    expect(listed.map((u: { email: string }) => u.email)).toEqual([renee]);
    const promoted = await cli(["users", "set-role", "--email", variant, "--role", "user"], { env: db });
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toContain("already user");

    for (const args of [["users", "create", "--email", `zero\u200bwidth@example.com`], ["users", "list", "--email", "zero\u200b"]]) {
      const res = await cli(args, { env: db, input: "some password 1\n" });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/--email: email must not contain invisible characters/i);
    }
  });

  describe("with a server running on the same database", () => {
    let srv: TestServer;
    const login = async (email: string, password: string) => {
      const res = await request(srv.url, "POST", "/login", { body: { email, password } });
      expect(res.status).toBe(200);
      return cookiePair(res.setCookie);
    };
    const me = async (cookie: string) => (await request(srv.url, "GET", "/me", { cookie })).status;
    beforeAll(async () => {
      srv = await startTestServer({ dbPath });
      srv.clock.set(Date.now()); // the CLI prunes by the real clock
    });
    afterAll(() => srv.close());

    it("the created accounts can sign in, with the role the CLI gave them", async () => {
      const cookie = await login(admin, "admin passphrase");
      expect((await request(srv.url, "GET", "/users", { cookie })).status).toBe(200);
      // The trailing \r\n of the piped password was not part of it.
      expect(await me(await login(bob, "bob password 1"))).toBe(200);
    });

    it("users set-role changes the role and ends that user's sessions; the last admin is kept", async () => {
      const cookie = await login(bob, "bob password 1");
      const res = await cli(["users", "set-role", "--email", bob, "--role", "admin"], { env: db });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/is now admin; \d+ sessions? revoked/);
      expect(await me(cookie)).toBe(401);
      expect((await cli(["users", "set-role", "--email", bob, "--role", "admin"], { env: db })).stdout).toContain("already admin; nothing changed");
      expect((await cli(["users", "set-role", "--email", bob, "--role", "user"], { env: db })).code).toBe(0);

      const last = await cli(["users", "set-role", "--email", admin, "--role", "user"], { env: db });
      expect(last.code).toBe(1);
      expect(last.stderr).toContain("Cannot remove the last admin");
      const unknown = await cli(["users", "set-role", "--email", "nobody-cli", "--role", "user"], { env: db });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("No account with email nobody-cli");
    });

    it("sessions revoke ends every session of one user", async () => {
      const cookies = [await login(bob, "bob password 1"), await login(bob, "bob password 1")];
      const adminCookie = await login(admin, "admin passphrase");
      const res = await cli(["sessions", "revoke", "--user", bob], { env: db });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^Revoked \d+ sessions of /);
      for (const cookie of cookies) expect(await me(cookie)).toBe(401);
      expect(await me(adminCookie)).toBe(200);
    });

    it("sessions revoke --all ends every session and bearer token of every user", async () => {
      const cookies = [await login(bob, "bob password 1"), await login(admin, "admin passphrase")];
      const bearer = await request(srv.url, "POST", "/token/login", { body: { email: bob, password: "bob password 1" } });
      expect(bearer.status).toBe(200);
      const both = await cli(["sessions", "revoke", "--all", "--user", bob], { env: db });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain("Give either --user or --all, not both");
      expect(await me(cookies[0]!)).toBe(200);

      const res = await cli(["sessions", "revoke", "--all"], { env: db });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^Revoked \d+ sessions and [1-9]\d* bearer logins? of every user\n$/);
      for (const cookie of cookies) expect(await me(cookie)).toBe(401);
      const auth = { authorization: `Bearer ${bearer.body.accessToken}` };
      expect((await request(srv.url, "GET", "/token/me", { headers: auth })).status).toBe(401);
      expect((await request(srv.url, "POST", "/token/refresh", { body: { refreshToken: bearer.body.refreshToken } })).status).toBe(401);
      // Signing in again works (a bearer login: the next test counts bob's cookie sessions).
      expect((await request(srv.url, "POST", "/token/login", { body: { email: bob, password: "bob password 1" } })).status).toBe(200);
    });

    it("sessions prune deletes expired sessions and bearer tokens only", async () => {
      srv.clock.set(Date.now() - 400 * 86_400_000);
      const expired = await login(bob, "bob password 1");
      // A bearer login that long ago: its refresh family and token are past every expiry too.
      const oldBearer = await request(srv.url, "POST", "/token/login", { body: { email: bob, password: "bob password 1" } });
      expect(oldBearer.status).toBe(200);
      srv.clock.set(Date.now());
      const liveBearer = await request(srv.url, "POST", "/token/login", { body: { email: bob, password: "bob password 1" } });
      const live = await login(bob, "bob password 1");
      const res = await cli(["sessions", "prune"], { env: db });
      expect(res.code, res.stderr).toBe(0);
      // The message names tokens since the CLI prunes them too (it used to prune sessions and counters only).
      expect(res.stdout).toMatch(/^Pruned [1-9]\d* expired sessions?, \d+ expired counters?, [1-9]\d* expired tokens? and \d+ events? older than EVENTS_RETENTION\n$/);
      expect((await request(srv.url, "POST", "/token/refresh", { body: { refreshToken: liveBearer.body.refreshToken } })).status).toBe(200);
      const bobId = (await srv.latchkey.store.findUserByEmail(bob))!.id;
      expect(await srv.latchkey.store.listUserSessions(bobId)).toHaveLength(1);
      expect(await me(live)).toBe(200);
      expect(await me(expired)).toBe(401);
    });

    it("users set-email gives an account another (verified) address and ends its sessions; a taken one is refused", async () => {
      const cookie = await login(bob, "bob password 1");
      const moved = "bob-moved@example.com";
      const res = await cli(["users", "set-email", "--email", bob, "--new-email", "Bob-Moved@Example.com"], { env: db });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`${bob} is now ${moved}; every session ended\n`);
      expect(await me(cookie)).toBe(401);
      const taken = await cli(["users", "set-email", "--email", moved, "--new-email", admin], { env: db });
      expect(taken.code).toBe(1);
      expect(taken.stderr).toContain("belongs to another account");
      const back = await cli(["users", "set-email", "--email", moved, "--new-email", bob], { env: db });
      expect(back.code, back.stderr).toBe(0);
      const bobRow = await srv.latchkey.store.findUserByEmail(bob);
      expect(bobRow?.emailVerifiedAt).not.toBeNull();
    });

    it("users disable ends an account's sessions and refuses its log-in; users enable lets it in again", async () => {
      const cookie = await login(bob, "bob password 1");
      const res = await cli(["users", "disable", "--email", bob, "--reason", "chargeback"], { env: db });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`${bob} is disabled until enabled again; every session ended\n`);
      expect(await me(cookie)).toBe(401);
      expect((await request(srv.url, "POST", "/login", { body: { email: bob, password: "bob password 1" } })).body).toEqual({ error: "Account disabled" });
      const bad = await cli(["users", "disable", "--email", bob, "--reason", "x", "--until", "2001-01-01T00:00:00Z"], { env: db });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--until must be in the future");
      const enabled = await cli(["users", "enable", "--email", bob], { env: db });
      expect(enabled.code, enabled.stderr).toBe(0);
      expect(enabled.stdout).toBe(`${bob} is enabled\n`);
      expect(await me(await login(bob, "bob password 1"))).toBe(200);
      const { events } = await srv.latchkey.store.events.list({ userId: (await srv.latchkey.store.findUserByEmail(bob))!.id, types: ["account.disabled"], limit: 5 });
      expect(events).toMatchObject([{ details: { reason: "chargeback", until: null, via: "cli" } }]);
    });

    it("events list shows what the CLI and the server recorded, by email, type and time, as a table or JSON", async () => {
      const roles = await cli(["events", "list", "--email", bob, "--type", "role.changed", "--json"], { env: db });
      expect(roles.code, roles.stderr).toBe(0);
      const changes = JSON.parse(roles.stdout);
      expect(changes.map((e: any) => [e.details.from, e.details.to, e.details.via, e.email])).toEqual([
        ["admin", "user", "cli", bob],
        ["user", "admin", "cli", bob],
      ]);
      const everywhere = JSON.parse((await cli(["events", "list", "--type", "sessions.revoked_everywhere", "--json"], { env: db })).stdout);
      expect(everywhere).toMatchObject([{ userId: null, details: { via: "cli" } }]);

      const table = await cli(["events", "list", "--email", bob, "--since", "1d", "--limit", "5"], { env: db });
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^AT\s+TYPE\s+USER\s+BY\s+IP\s+DETAILS$/);
      expect(lines).toHaveLength(6);
      expect(table.stdout).toContain("login.success");
      expect(table.stdout).toContain(bob);
      expect(table.stdout).not.toContain("bob password 1");
      const future = await cli(["events", "list", "--email", bob, "--since", new Date(Date.now() + 86_400_000).toISOString()], { env: db });
      expect(future.stdout).toBe("No events\n");

      for (const bad of [["--type", "nope"], ["--since", "yesterday"], ["--limit", "0"], ["--since", "2026-99-99T00:00:00Z"]]) {
        const res = await cli(["events", "list", ...bad], { env: db });
        expect(res.code, bad.join(" ")).toBe(2);
        expect(res.stderr, bad.join(" ")).toContain(bad[0]);
      }
    });

    it("users delete removes the account and its sessions; the last admin is kept", async () => {
      const cookie = await login(bob, "bob password 1");
      const res = await cli(["users", "delete", "--email", bob], { env: db });
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`Deleted ${bob}\n`);
      expect(await me(cookie)).toBe(401);
      expect((await cli(["users", "delete", "--email", bob], { env: db })).code).toBe(1);
      const last = await cli(["users", "delete", "--email", admin], { env: db });
      expect(last.code).toBe(1);
      expect(last.stderr).toContain("Cannot remove the last admin");
    });
  });
});

describe("serve", () => {
  it("starts the server (with the bootstrap admin) and stops cleanly on SIGTERM", async () => {
    const email = uniqueEmail("serve-admin");
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...FAST_ARGON2,
      NODE_ENV: "test",
      LOG_LEVEL: "info",
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: `sqlite:${join(dir.path, "serve", "latchkey.db")}`,
      LATCHKEY_ADMIN_EMAIL: email,
      LATCHKEY_ADMIN_PASSWORD: "serve passphrase",
    };
    const child = spawn(process.execPath, [BIN, "serve"], { cwd: dir.path, env, stdio: ["ignore", "pipe", "pipe"] });
    const exited = once(child, "exit");
    let logs = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        logs += d;
        const m = /"event":"server.listening","url":"([^"]+)"/.exec(logs);
        if (m) resolve(m[1]!);
      });
      child.stderr.on("data", (d) => (logs += d));
      exited.then(() => reject(new Error(`serve exited early:\n${logs}`)));
    });
    const login = await request(url, "POST", "/login", { body: { email, password: "serve passphrase" } });
    expect(login.status).toBe(200);
    expect(login.body.user.role).toBe("admin");
    expect(logs).toContain('"event":"admin.bootstrapped"');
    expect(logs).not.toContain("serve passphrase");
    child.kill("SIGTERM");
    expect((await exited)[0]).toBe(0);
  });

  it("refuses to start with an unusable bootstrap password: clear message, exit 2, password not echoed", async () => {
    const res = await cli(["serve"], {
      env: { ...db, LATCHKEY_ADMIN_EMAIL: "root", LATCHKEY_ADMIN_PASSWORD: "hunter2" },
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("latchkey: LATCHKEY_ADMIN_PASSWORD is not usable: Password must be at least 8 characters");
    expect(res.stderr + res.stdout).not.toContain("hunter2");
  });
});

// A terminal, for the no-echo prompt: util-linux `script` runs the CLI on a pseudo-terminal.
const hasScript = existsSync("/usr/bin/script") || existsSync("/bin/script");
if (!hasScript) console.warn("SKIPPING the CLI's terminal-prompt test: `script` (util-linux) is not installed");

describe.skipIf(!hasScript)("users create at a terminal", () => {
  /** Runs the command on a pty, typing each answer once its prompt has appeared. */
  async function onTerminal(args: string[], answers: [prompt: string, typed: string][], env: Record<string, string>) {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: dir.path,
      env: { ...process.env, NODE_ENV: "test", ...FAST_ARGON2, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    let next = 0;
    let from = 0; // each prompt is looked for after the previous answer
    child.stdout.on("data", (d) => {
      screen += d;
      const answer = answers[next];
      const at = answer ? screen.indexOf(answer[0], from) : -1;
      if (answer && at >= 0) {
        next++;
        from = at + answer[0].length;
        child.stdin.write(answer[1]);
      }
    });
    const [code] = await once(child, "exit");
    return { code: code as number | null, screen };
  }

  it("prompts twice without echoing and creates the account with exactly what was typed", async () => {
    const ttyDb = join(dir.path, "tty.db");
    const email = uniqueEmail("tty");
    const res = await onTerminal(
      ["users", "create", "--email", email],
      [["Password: ", "typed secret 1\r"], ["Repeat password: ", "typed secret 1\r"]],
      { DATABASE_URL: `sqlite:${ttyDb}` },
    );
    expect(res.code, res.screen).toBe(0);
    expect(res.screen).toContain(`Created user ${email}`);
    expect(res.screen).not.toContain("typed secret");
    const srv = await startTestServer({ dbPath: ttyDb });
    try {
      expect((await request(srv.url, "POST", "/login", { body: { email, password: "typed secret 1" } })).status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it("refuses two different entries", async () => {
    const res = await onTerminal(
      ["users", "create", "--email", uniqueEmail("tty")],
      [["Password: ", "typed secret 1\r"], ["Repeat password: ", "typed secret 2\r"]],
      { DATABASE_URL: `sqlite:${join(dir.path, "tty.db")}` },
    );
    expect(res.code).toBe(1);
    expect(res.screen).toContain("The two passwords do not match");
  });
});
