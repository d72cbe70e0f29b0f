// The operator's command line: `npx latchkey <command>` (bin/latchkey.js runs
// the compiled dist/cli.js). node:util parseArgs, one small function per command.
// The server, the store engines and Argon2 are imported only by the commands
// that use them, so `--help` and argument errors answer quickly.
// Exit codes: 0 done, 1 the operation failed (unknown account, last admin, no
// database), 2 bad arguments or configuration, 130 cancelled at a prompt.
import { existsSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Accounts } from "./auth/accounts.js";
import { iso } from "./auth/users.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig, parseDuration, type Config } from "./config.js";
import { EVENT_TYPES, toPublicEvent, type EventContext } from "./events.js";
import type { PublicEvent } from "./schemas.js";
import { REFUSALS } from "./refusals.js";
import { disableBody, emailPrefixSchema, emailSchema, roleSchema } from "./schemas.js";
import type { WebhookDelivery } from "./store/event-store.js";
import { DISABLED_FOREVER, type Store, type UserRow } from "./store/store.js";

/** Bad arguments: exit 2, with a pointer to --help. */
class UsageError extends Error {}
/** The operation could not be done: exit 1. */
class CommandError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  summary: string;
  options: Options;
  /** Whether the command may create the database (serve, migrate, users create) or needs an existing one. */
  createsDatabase: boolean;
  run(values: Values, config: Config): Promise<number>;
}

/** Events recorded by a command say so (details.via = "cli"); the operator has no account id here. */
const CLI: EventContext = { via: "cli" };

const out = (line: string) => process.stdout.write(line + "\n");
const err = (line: string) => process.stderr.write(line + "\n");

// ---------------------------------------------------------------- helpers

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function parseEmail(raw: string): string {
  const parsed = emailSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--email: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/** The same normalisation as GET /users?email= (one function for every lookup). */
function parseEmailPrefix(raw: string): string {
  const parsed = emailPrefixSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--email: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * Opens the store DATABASE_URL names (migrations run on open). Commands that
 * only read or change existing data refuse a SQLite file that does not exist
 * rather than create an empty database somewhere unexpected.
 */
async function open(config: Config, mayCreate: boolean): Promise<Store> {
  const db = config.database;
  if (!mayCreate && db.kind === "sqlite" && db.path !== ":memory:" && !existsSync(db.path)) {
    throw new CommandError(`No database at ${db.path} (from DATABASE_URL): run "latchkey migrate" first, or check DATABASE_URL`);
  }
  try {
    const { openStore } = await import("./store/open.js");
    return await openStore(config);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new CommandError(`Cannot open the database: ${(e as Error).message}`);
  }
}

async function withStore<T>(config: Config, mayCreate: boolean, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await open(config, mayCreate);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

async function findByEmail(store: Store, email: string): Promise<UserRow> {
  const user = await store.findUserByEmail(email);
  if (!user) throw noAccount(email);
  return user;
}

/** The account lifecycle over this store, as the server has it (auth/accounts.ts): what ends when is decided there. */
async function accountsOf(store: Store, config: Config): Promise<Accounts> {
  const [{ createAccounts }, { createSessionManager }, { createPasswordHasher }] = await Promise.all([
    import("./auth/accounts.js"),
    import("./auth/sessions.js"),
    import("./auth/passwords.js"),
  ]);
  const sessions = createSessionManager(store, config.session, systemClock);
  return createAccounts({ store, sessions, passwords: createPasswordHasher(config.argon2), clock: systemClock, config });
}

/** --type: known event types, comma-separated. */
function parseTypes(raw: string): string[] {
  const types = raw.split(",").map((t) => t.trim());
  const unknown = types.filter((t) => !(t in EVENT_TYPES));
  if (unknown.length > 0) throw new UsageError(`--type: unknown event type "${unknown[0]}" (one of ${Object.keys(EVENT_TYPES).join(", ")})`);
  return types;
}

/** --since: an ISO 8601 time, or a duration back from now ("7d", "12h"). */
function parseSince(raw: string): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const at = Date.parse(raw);
    if (Number.isNaN(at)) throw new UsageError(`--since: not a valid date-time: "${raw}"`);
    return at;
  }
  try {
    return Date.now() - parseDuration("--since", raw);
  } catch {
    throw new UsageError(`--since: give an ISO 8601 time (2026-12-01T00:00:00Z) or a duration such as 7d, got "${raw}"`);
  }
}

function parseLimit(raw: string): number {
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > 1000) throw new UsageError("--limit must be a whole number between 1 and 1000");
  return Number(raw);
}

const noAccount = (email: string) => new CommandError(`No account with email ${email}`);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

// ---------------------------------------------------------------- passwords

/** Reads a line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (error?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003" || (ch === "\u0004" && value === "")) return finish(new CommandError("Cancelled", 130));
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else value += ch;
      }
    };
    // Raw mode (no echo) first, then the prompt: nothing typed after the prompt appears can be echoed.
    stdin.setEncoding("utf8");
    stdin.setRawMode(true);
    stdin.on("data", onData);
    stdin.resume();
    process.stderr.write(prompt);
  });
}

async function readStdin(): Promise<string> {
  let text = "";
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/**
 * The new account's password: typed twice at a terminal (no echo), or the
 * first line of standard input when it is a pipe or a file. Only the line
 * break is removed; the password is otherwise taken exactly as given.
 */
async function readNewPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden("Password: ");
    const again = await promptHidden("Repeat password: ");
    if (first !== again) throw new CommandError("The two passwords do not match");
    return first;
  }
  const password = (await readStdin()).split(/\r?\n/)[0]!;
  if (password === "") throw new CommandError("No password on standard input (pipe it in, or run in a terminal to be prompted)");
  return password;
}

// ---------------------------------------------------------------- commands

const help = { help: { type: "boolean", short: "h" } } as const satisfies Options;

const commands: Record<string, Command> = {
  serve: {
    usage: "latchkey serve",
    summary: "Start the HTTP server (configured from the environment, like npm start)",
    options: help,
    createsDatabase: true,
    async run(_values, config) {
      const { startServer, untilSignalled } = await import("./serve.js");
      const { startupFailure } = await import("./startup-errors.js");
      const running = await startServer({ config }).catch((e: unknown) => {
        throw e instanceof ConfigError ? e : new CommandError(startupFailure(e, config));
      });
      return untilSignalled(running);
    },
  },

  migrate: {
    usage: "latchkey migrate",
    summary: "Create the database if needed and apply pending migrations",
    options: help,
    createsDatabase: true,
    async run(_values, config) {
      // Opening a store migrates it; AUTO_MIGRATE=false only stops the server from doing so.
      const migrating = { ...config, store: { ...config.store, autoMigrate: true } };
      await withStore(migrating, true, async (store) => {
        const where = config.database.kind === "sqlite" ? ` at ${config.database.path}` : "";
        out(`Database is up to date (${store.engine}${where})`);
      });
      return 0;
    },
  },

  "users create": {
    usage: "latchkey users create --email <email> [--admin]",
    summary: "Create an account; the password is prompted for (no echo) or read from standard input",
    options: { ...help, email: { type: "string" }, admin: { type: "boolean" } },
    createsDatabase: true,
    async run(values, config) {
      const email = parseEmail(required(values, "email"));
      const role = values.admin ? "admin" : "user";
      return withStore(config, true, async (store) => {
        const taken = () => new CommandError(`An account with email ${email} already exists`);
        if (await store.findUserByEmail(email)) throw taken(); // before asking for a password
        const password = await readNewPassword();
        const user = await (await accountsOf(store, config)).create({ email, password, role, verified: true }, CLI);
        if ("refused" in user) throw user.refused === "email_taken" ? taken() : new CommandError(user.reason);
        out(`Created ${role} ${user.email} (id ${user.id})`);
        return 0;
      });
    },
  },

  "users list": {
    usage: "latchkey users list [--email <prefix>] [--json]",
    summary: "List accounts (id, email, role, created, last login), optionally by email prefix",
    options: { ...help, email: { type: "string" }, json: { type: "boolean" } },
    createsDatabase: false,
    async run(values, config) {
      const prefix = typeof values.email === "string" ? parseEmailPrefix(values.email) : undefined;
      const users: UserRow[] = await withStore(config, false, async (store) => {
        const all: UserRow[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listUsers({ limit: 100, cursor, emailPrefix: prefix || undefined });
          all.push(...page.users);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all;
      });
      if (values.json) {
        const rows = users.map((u) => ({ id: u.id, email: u.email, role: u.role, createdAt: iso(u.createdAt), lastLoginAt: u.lastLoginAt === null ? null : iso(u.lastLoginAt) }));
        out(JSON.stringify(rows, null, 2));
        return 0;
      }
      if (users.length === 0) {
        out("No users");
        return 0;
      }
      const table = [["ID", "EMAIL", "ROLE", "CREATED", "LAST LOGIN"], ...users.map((u) => [u.id, u.email, u.role, iso(u.createdAt), u.lastLoginAt === null ? "-" : iso(u.lastLoginAt)])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      for (const row of table) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
      return 0;
    },
  },

  "users set-email": {
    usage: "latchkey users set-email --email <current email> --new-email <email>",
    summary: "Give an account another address (counted as verified); its sessions and bearer tokens end",
    options: { ...help, email: { type: "string" }, "new-email": { type: "string" } },
    createsDatabase: false,
    async run(values, config) {
      const email = parseEmail(required(values, "email"));
      const parsed = emailSchema.safeParse(required(values, "new-email"));
      if (!parsed.success) throw new UsageError(`--new-email: ${parsed.error.issues[0]!.message}`);
      return withStore(config, false, async (store) => {
        const user = await findByEmail(store, email);
        const result = await (await accountsOf(store, config)).setEmail(user.id, parsed.data, CLI);
        if (result === "not_found") throw noAccount(email);
        if (result === "email_taken") throw new CommandError(`${parsed.data} belongs to another account`);
        out(result.changed ? `${email} is now ${parsed.data}; every session ended` : `${email} already has that address; nothing changed`);
        return 0;
      });
    },
  },

  "users set-role": {
    usage: "latchkey users set-role --email <email> --role <user|admin>",
    summary: "Change an account's role; its sessions end so it signs in again under the new role",
    options: { ...help, email: { type: "string" }, role: { type: "string" } },
    createsDatabase: false,
    async run(values, config) {
      const email = parseEmail(required(values, "email"));
      const role = roleSchema.safeParse(required(values, "role"));
      if (!role.success) throw new UsageError(`--role must be user or admin, got "${values.role}"`);
      return withStore(config, false, async (store) => {
        const user = await findByEmail(store, email);
        const result = await (await accountsOf(store, config)).changeRole(user.id, role.data, CLI);
        if (result === "not_found") throw noAccount(email);
        if (result === "last_admin") throw new CommandError(REFUSALS.lastAdmin.message);
        out(result.changed ? `${email} is now ${role.data}; ${plural(result.revoked, "session")} revoked` : `${email} is already ${role.data}; nothing changed`);
        return 0;
      });
    },
  },

  "users disable": {
    usage: "latchkey users disable --email <email> --reason <text> [--until <ISO date-time>]",
    summary: "Disable an account (until a time, or until enabled): every session and token of it ends, its log-in is refused",
    options: { ...help, email: { type: "string" }, reason: { type: "string" }, until: { type: "string" } },
    createsDatabase: false,
    async run(values, config) {
      const email = parseEmail(required(values, "email"));
      const parsed = disableBody.safeParse({ reason: required(values, "reason"), until: values.until });
      if (!parsed.success) throw new UsageError(`--${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`);
      const until = parsed.data.until ?? DISABLED_FOREVER;
      if (until <= Date.now()) throw new UsageError("--until must be in the future");
      return withStore(config, false, async (store) => {
        const user = await findByEmail(store, email);
        const result = await (await accountsOf(store, config)).disable(user.id, until, parsed.data.reason, CLI);
        if (result === "not_found") throw noAccount(email);
        if (result === "last_admin") throw new CommandError(REFUSALS.lastAdmin.message);
        out(`${email} is disabled ${until === DISABLED_FOREVER ? "until enabled again" : `until ${new Date(until).toISOString()}`}; every session ended`);
        return 0;
      });
    },
  },

  "users enable": {
    usage: "latchkey users enable --email <email>",
    summary: "Enable a disabled account again",
    options: { ...help, email: { type: "string" } },
    createsDatabase: false,
    async run(values, config) {
      const email = parseEmail(required(values, "email"));
      return withStore(config, false, async (store) => {
        const user = await findByEmail(store, email);
        if ((await (await accountsOf(store, config)).enable(user.id, CLI)) === "not_found") throw noAccount(email);
        out(`${email} is enabled`);
        return 0;
      });
    },
  },

  "users delete": {
    usage: "latchkey users delete --email <email>",
    summary: "Delete an account and every session of it (never the last admin)",
    options: { ...help, email: { type: "string" } },
    createsDatabase: false,
    async run(values, config) {
      const email = parseEmail(required(values, "email"));
      return withStore(config, false, async (store) => {
        const user = await findByEmail(store, email);
        const result = await (await accountsOf(store, config)).remove(user.id, CLI);
        if (result === "not_found") throw noAccount(email);
        if (result === "last_admin") throw new CommandError(REFUSALS.lastAdmin.message);
        out(`Deleted ${email}`);
        return 0;
      });
    },
  },

  "sessions revoke": {
    usage: "latchkey sessions revoke --user <email> | --all",
    summary: "End every session of an account, or with --all of every account (they must sign in again)",
    options: { ...help, user: { type: "string" }, all: { type: "boolean" } },
    createsDatabase: false,
    async run(values, config) {
      if (values.all) {
        if (values.user !== undefined) throw new UsageError("Give either --user or --all, not both");
        return withStore(config, false, async (store) => {
          const { sessions, families } = await (await accountsOf(store, config)).endEverySession(CLI);
          out(`Revoked ${plural(sessions, "session")} and ${plural(families, "bearer login")} of every user`);
          return 0;
        });
      }
      if (values.user === undefined) throw new UsageError("--user is required (or --all for every account)");
      const email = parseEmail(required(values, "user"));
      return withStore(config, false, async (store) => {
        const user = await findByEmail(store, email);
        const revoked = await (await accountsOf(store, config)).endSessions(user.id, { context: CLI });
        out(`Revoked ${plural(revoked, "session")} of ${email}`);
        return 0;
      });
    },
  },

  "sessions prune": {
    usage: "latchkey sessions prune",
    summary: "Delete expired sessions, rate-limit counters and bearer/reset tokens now (the server also does this in the background)",
    options: help,
    createsDatabase: false,
    async run(_values, config) {
      return withStore(config, false, async (store) => {
        const { sessions, counters, tokens, events } = await (await accountsOf(store, config)).prune();
        out(
          `Pruned ${plural(sessions, "expired session")}, ${plural(counters, "expired counter")}, ${plural(tokens, "expired token")} and ${plural(events, "event")} older than EVENTS_RETENTION`,
        );
        return 0;
      });
    },
  },

  "events list": {
    usage: "latchkey events list [--email <email>] [--type <type>[,<type>...]] [--since <ISO time | duration, e.g. 7d>] [--limit <n>] [--json]",
    summary: "Security events, newest first (default the last 50): sign-ins, failures, revocations, changes, admin actions",
    options: { ...help, email: { type: "string" }, type: { type: "string" }, since: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } },
    createsDatabase: false,
    async run(values, config) {
      const types = typeof values.type === "string" ? parseTypes(values.type) : undefined;
      const since = typeof values.since === "string" ? parseSince(values.since) : undefined;
      const limit = typeof values.limit === "string" ? parseLimit(values.limit) : 50;
      const email = typeof values.email === "string" ? parseEmail(values.email) : undefined;
      const { events, emails } = await withStore(config, false, async (store) => {
        const userId = email === undefined ? undefined : (await findByEmail(store, email)).id;
        const { events } = await store.events.list({ userId, types, since, limit });
        // Name the accounts still there by email; deleted ones keep their id.
        const emails = new Map<string, string>();
        for (const id of new Set(events.flatMap((e) => [e.userId, e.actorId]).filter((v): v is string => v !== null))) {
          const user = await store.findUserById(id);
          if (user) emails.set(id, user.email);
        }
        return { events: events.map(toPublicEvent), emails };
      });
      if (values.json) {
        out(JSON.stringify(events.map((e) => ({ ...e, email: e.userId ? (emails.get(e.userId) ?? null) : null })), null, 2));
        return 0;
      }
      if (events.length === 0) {
        out("No events");
        return 0;
      }
      const who = (id: string | null) => (id === null ? "-" : (emails.get(id) ?? id));
      const details = (e: PublicEvent) => Object.entries(e.details).map(([k, v]) => `${k}=${v}`).join(" ");
      const table = [
        ["AT", "TYPE", "USER", "BY", "IP", "DETAILS"],
        ...events.map((e) => [e.at, e.type, who(e.userId), e.actorId === null ? "-" : who(e.actorId), e.ip ?? "-", details(e) || "-"]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      for (const row of table) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
      return 0;
    },
  },

  "webhooks failed": {
    usage: "latchkey webhooks failed [--json]",
    summary: "List webhook deliveries that gave up after WEBHOOK_MAX_AGE (endpoint, event, attempts, last error)",
    options: { ...help, json: { type: "boolean" } },
    createsDatabase: false,
    async run(values, config) {
      const { publicDelivery } = await import("./routes/webhooks.js");
      const failed: WebhookDelivery[] = await withStore(config, false, async (store) => {
        const all: WebhookDelivery[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.webhooks.listFailed({ limit: 100, cursor });
          all.push(...page.deliveries);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        return all;
      });
      // The same shape as GET /admin/webhooks/failed.
      const rows = failed.map(publicDelivery);
      if (values.json) {
        out(JSON.stringify(rows, null, 2));
        return 0;
      }
      if (rows.length === 0) {
        out("No failed webhook deliveries");
        return 0;
      }
      const table = [["EVENT", "TYPE", "AT", "ENDPOINT", "ATTEMPTS", "LAST ERROR"], ...rows.map((d) => [d.event.id, d.event.type, d.event.at, d.endpoint, String(d.attempts), d.lastError ?? "-"])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
      for (const row of table) out(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
      return 0;
    },
  },

  "webhooks redeliver": {
    usage: "latchkey webhooks redeliver --event <id> | --all",
    summary: "Put failed webhook deliveries (one event's, or all) back to pending; a running server sends them",
    options: { ...help, event: { type: "string" }, all: { type: "boolean" } },
    createsDatabase: false,
    async run(values, config) {
      if (values.all && values.event !== undefined) throw new UsageError("Give either --event or --all, not both");
      if (!values.all && values.event === undefined) throw new UsageError("--event is required (or --all for every failed delivery)");
      const target = values.all ? ("all" as const) : { eventId: required(values, "event") };
      return withStore(config, false, async (store) => {
        const n = await store.webhooks.redeliver(target, systemClock());
        if (n === 0 && target !== "all") throw new CommandError(`No failed delivery of event ${target.eventId}`);
        out(`${n} ${n === 1 ? "delivery" : "deliveries"} back to pending${config.webhooks ? "" : " (WEBHOOK_URL is not set here: a server with it sends them)"}`);
        return 0;
      });
    },
  },
};

const groups = ["users", "sessions", "events", "webhooks"];

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    "Usage: latchkey <command> [options]",
    "       latchkey --version",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "Every command reads its configuration from the environment (DATABASE_URL, ...; a .env file too).",
    'Run "latchkey <command> --help" for a command\'s options.',
  ].join("\n");
}

function groupHelp(group: string): string {
  const names = Object.keys(commands).filter((n) => n.startsWith(group + " "));
  return [`Usage: latchkey ${group} <${names.map((n) => n.split(" ")[1]).join("|")}> [options]`, "", ...names.map((n) => `  ${commands[n]!.usage}\n      ${commands[n]!.summary}`)].join("\n");
}

function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.summary}.`;
}

/** Runs the CLI with these arguments; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === "--version" || first === "-v" || first === "version") {
    const { VERSION } = await import("./version.js");
    out(VERSION);
    return 0;
  }
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    (first === undefined ? err : out)(mainHelp());
    return first === undefined ? 2 : 0;
  }
  let name: string;
  let rest: string[];
  if (groups.includes(first)) {
    if (second === undefined || second === "--help" || second === "-h") {
      (second === undefined ? err : out)(groupHelp(first));
      return second === undefined ? 2 : 0;
    }
    name = `${first} ${second}`;
    rest = argv.slice(2);
  } else {
    name = first;
    rest = argv.slice(1);
  }
  const command = commands[name];
  if (!command) {
    err(`latchkey: unknown command "${name}"\n\n${groups.includes(first) ? groupHelp(first) : mainHelp()}`);
    return 2;
  }

  try {
    let values: Values;
    try {
      values = parseArgs({ args: rest, options: command.options, allowPositionals: false, strict: true }).values as Values;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (values.help) {
      out(commandHelp(command));
      return 0;
    }
    if (existsSync(".env")) process.loadEnvFile(".env");
    return await command.run(values, loadConfig());
  } catch (e) {
    if (e instanceof UsageError) {
      err(`latchkey ${name}: ${e.message}\nUsage: ${command.usage}  (see "latchkey ${name} --help")`);
      return 2;
    }
    if (e instanceof ConfigError) {
      err(`latchkey: ${e.message}`);
      return 2;
    }
    if (e instanceof CommandError) {
      err(`latchkey ${name}: ${e.message}`);
      return e.exitCode;
    }
    err(`latchkey ${name}: ${(e as Error).message}`);
    return 1;
  }
}
