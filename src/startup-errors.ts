// What an operator reads when the server cannot start: one line naming the
// cause and what to change, instead of a stack trace (server.ts, `latchkey serve`).
import { maskUrl, type Config } from "./config.js";
import { MissingPackageError } from "./optional-import.js";
import { StoreUnavailableError } from "./store/store.js";

/** DATABASE_URL as it can be shown: the password (and any query string) masked. */
export function describeDatabase(config: Pick<Config, "database" | "redis">): string {
  const sql = config.database.kind === "sqlite" ? `sqlite:${config.database.path}` : shownUrl(config.database.url);
  return config.redis ? `${sql} + ${shownUrl(config.redis.url)}` : sql;
}

/** maskUrl without the query string, which may carry more credentials (sslpassword=, ...). */
function shownUrl(raw: string): string {
  return maskUrl(raw).replace(/\?.*$/, "");
}

/** PostgreSQL's SQLSTATEs for a wrong database name, role or password. */
const POSTGRES_LOGIN = new Map([
  ["3D000", "the database does not exist (check the name in DATABASE_URL)"],
  ["28P01", "password authentication failed (check DATABASE_URL)"],
  ["28000", "the role is not allowed to connect (check DATABASE_URL)"],
  ["3F000", "the schema does not exist (check ?schema= in DATABASE_URL)"],
]);

/** The one line for an error thrown by startServer(); never includes a password. */
export function startupFailure(err: unknown, config: Config): string {
  const e = err as NodeJS.ErrnoException & { syscall?: string };
  const where = describeDatabase(config);
  if (err instanceof MissingPackageError) return err.message;
  if (e?.syscall === "listen" && e.code === "EADDRINUSE") {
    return `port ${config.port} is already in use${config.host ? ` on ${config.host}` : ""}: stop the other server or set PORT`;
  }
  if (e?.syscall === "listen" && e.code === "EACCES") return `no permission to listen on port ${config.port}: set PORT above 1023`;
  if (e?.syscall === "listen" && e.code === "EADDRNOTAVAIL") return `HOST ${config.host} is not an address of this machine`;
  if (err instanceof StoreUnavailableError) return `cannot reach the database (${where}): ${err.message}`;
  if (typeof e?.code === "string" && POSTGRES_LOGIN.has(e.code)) return `cannot use the database (${where}): ${POSTGRES_LOGIN.get(e.code)}`;
  if (typeof e?.code === "string" && /^SQLITE_(CANTOPEN|READONLY|PERM|NOTADB|CORRUPT)/.test(e.code)) {
    return `cannot open the SQLite database (${where}): ${e.message}`;
  }
  return `cannot start: ${(err as Error)?.message ?? String(err)}`;
}
