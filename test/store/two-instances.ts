// Two store instances on one database, as two server processes would have
// them: the store contracts race them against each other. PostgreSQL (one
// fresh schema) or SQLite (one file), each optionally with Redis (one prefix).
import { join } from "node:path";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { createRedisStore } from "../../src/store/redis/index.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/server.js";
import { deleteRedisPrefix, dropSchema, freshRedisPrefix, freshSchemaName, schemaUrl, TEST_REDIS_URL } from "../helpers/services.js";

export interface TwoInstances {
  a: Store;
  b: Store;
  /** Closes both and removes the schema, file and Redis keys. */
  close(): Promise<void>;
}

export async function twoInstances(engine: "sqlite" | "postgres", withRedis: boolean): Promise<TwoInstances> {
  const prefix = freshRedisPrefix();
  const schema = engine === "postgres" ? freshSchemaName() : undefined;
  const dir = engine === "sqlite" ? tempDir("latchkey-two-") : undefined;
  const open = async (): Promise<Store> => {
    const sql = schema ? await createPostgresStore(schemaUrl(schema)) : createSqliteStore(join(dir!.path, "two.db"));
    return withRedis ? createRedisStore(sql, TEST_REDIS_URL, { prefix }) : sql;
  };
  const [a, b] = [await open(), await open()];
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      if (schema) await dropSchema(schema);
      dir?.remove();
      if (withRedis) await deleteRedisPrefix(prefix);
    },
  };
}
