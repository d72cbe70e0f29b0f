// The PostgreSQL connection: URL parsing, the pool with its timeouts, and the
// one place where a pg error becomes StoreUnavailableError (503): query()
// and transaction(), used by the store and the token store alike.
import pg from "pg";
import { ConfigError, maskUrl } from "../../config.js";
import { StoreUnavailableError } from "../store.js";

export interface PostgresOptions {
  /** Schema holding the tables (created if missing); overrides `?schema=` in the URL. Default: the server's search_path. */
  schema?: string | undefined;
  poolSize?: number;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Apply pending migrations before returning (default true). */
  autoMigrate?: boolean;
  /** Mark each new event for the webhook deliverer (WEBHOOK_URL is set). */
  webhookEvents?: boolean;
}

export const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Splits our own `schema` parameter off a postgres:// URL (pg would pass it
 * to the server as an unknown setting). `options=-c search_path=x` also works,
 * since pg forwards it as is.
 */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // A TypeError from URL carries the whole input, password included.
    throw new ConfigError(`DATABASE_URL is not a valid URL, got "${maskUrl(url)}"`);
  }
  const schema = parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("schema");
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`DATABASE_URL schema must be a plain identifier (letters, digits, _), got "${schema}"`);
  }
  return { connectionString: parsed.toString(), schema };
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** SQLSTATEs and client errors that mean "the database is not there", not "your query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-4]|57014)/; // connection, resources, admin shutdown, statement timeout
const UNAVAILABLE_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);
const UNAVAILABLE_MESSAGE = /timeout|Connection terminated|not queryable|Client was closed|Connection closed/i;

export function isPostgresUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (UNAVAILABLE_NODE_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code);
  }
  return UNAVAILABLE_MESSAGE.test(err.message);
}

export function unavailable(err: unknown): unknown {
  // The message names the failure kind only: connection strings (and their passwords) stay out of errors.
  if (isPostgresUnavailable(err)) {
    return new StoreUnavailableError(`PostgreSQL unavailable: ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
  return err;
}

export function createPostgresPool(url: string, options: PostgresOptions = {}): { pool: pg.Pool; schema: string | undefined } {
  const { connectionString, schema: urlSchema } = parsePostgresUrl(url);
  const schema = options.schema ?? urlSchema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new ConfigError(`Invalid PostgreSQL schema name "${schema}"`);
  const queryTimeoutMs = options.queryTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    // The server cancels a slow statement; the client gives up a little later if the network is silent.
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + 1000,
    idle_in_transaction_session_timeout: queryTimeoutMs * 2,
    keepAlive: true,
    application_name: "latchkey",
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client whose backend dies (restart, pg_terminate_backend) emits here; without a
  // listener that would crash the process. The pool drops it and connects afresh next time.
  pool.on("error", () => {});
  return { pool, schema };
}


/** deadlock_detected, serialization_failure: the transaction did nothing and may simply run again. */
const RETRYABLE_SQLSTATE = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 5;

export function isRetryableTransactionError(err: unknown): boolean {
  return RETRYABLE_SQLSTATE.has((err as { code?: unknown } | null)?.code as string);
}

export type Query = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string | { name: string; text: string },
  params?: unknown[],
) => Promise<pg.QueryResult<R>>;

export interface Connection {
  pool: pg.Pool;
  /** One statement; a named one is prepared once per connection, then only bound and run. */
  query: Query;
  /**
   * `work` in one transaction, retried whole (a few times) when PostgreSQL
   * aborts it as a deadlock or serialisation victim.
   */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
}

export function connectionOf(pool: pg.Pool): Connection {
  const query: Query = async (text, params = []) => {
    try {
      return await (typeof text === "string" ? pool.query(text, params) : pool.query({ ...text, values: params }));
    } catch (err) {
      throw unavailable(err);
    }
  };
  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw unavailable(err);
      }
      let broken: Error | undefined;
      // pg-pool listens for a client's 'error' only while it is idle; a checked-out
      // client whose connection dies emits one too (besides failing its query), and
      // without a listener that is an uncaught exception that ends the process.
      const onError = (e: Error) => (broken ??= e);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await work(client);
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch((e: Error) => (broken = e));
        if (isPostgresUnavailable(err)) broken ??= err as Error;
        if (attempt < MAX_ATTEMPTS && isRetryableTransactionError(err)) {
          // A few milliseconds, jittered, so the two victims of one deadlock do not meet again at once.
          await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 10));
          continue;
        }
        throw unavailable(err);
      } finally {
        client.off("error", onError);
        client.release(broken); // a client that failed mid-transaction may be dead: destroy it rather than reuse it
      }
    }
  }
  return { pool, query, transaction };
}
