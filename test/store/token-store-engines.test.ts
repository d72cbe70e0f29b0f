// The TokenStore contract again, through the engines as openStore() builds
// them: PostgreSQL migrated by its versioned migrations (tokens are step 2),
// and PostgreSQL+Redis, where tokens stay in SQL.
import { describe } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { createRedisStore } from "../../src/store/redis/index.js";
import type { Store } from "../../src/store/store.js";
import {
  TEST_REDIS_URL,
  deleteRedisPrefix,
  dropSchema,
  freshRedisPrefix,
  freshSchemaName,
  schemaUrl,
  servicesAvailable,
} from "../helpers/services.js";
import { tokenStoreContract } from "./token-store-contract.js";

const pgUp = await servicesAvailable(["postgres"], "TokenStore through the PostgreSQL engine");
const redisUp = pgUp && (await servicesAvailable(["redis"], "TokenStore through the PostgreSQL+Redis engine"));

const fixture = (withRedis: boolean) => async () => {
  const schema = freshSchemaName();
  const prefix = freshRedisPrefix();
  const open = async (): Promise<Store> => {
    const sql = await createPostgresStore(schemaUrl(schema));
    return withRedis ? createRedisStore(sql, TEST_REDIS_URL, { prefix }) : sql;
  };
  // Two instances on one schema: the contract races them against each other.
  const [a, b] = [await open(), await open()];
  return {
    tokens: a.tokens,
    other: b.tokens,
    async createUser(id: string) {
      await a.createUser({ id, email: `${id}@example.com`, passwordHash: "x", role: "user", createdAt: Date.now() });
    },
    async close() {
      await a.close();
      await b.close();
      await dropSchema(schema);
      if (withRedis) await deleteRedisPrefix(prefix);
    },
  };
};

describe.skipIf(!pgUp)("postgres engine", () => tokenStoreContract("postgres engine", fixture(false)));
describe.skipIf(!redisUp)("postgres+redis engine", () => tokenStoreContract("postgres+redis engine", fixture(true)));
