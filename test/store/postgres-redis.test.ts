import { describe } from "vitest";
import { createPostgresStore } from "../../src/store/postgres/index.js";
import { createRedisStore } from "../../src/store/redis/index.js";
import {
  TEST_REDIS_URL,
  deleteRedisPrefix,
  dropSchema,
  freshRedisPrefix,
  freshSchemaName,
  schemaUrl,
  servicesAvailable,
} from "../helpers/services.js";
import { CONTRACT_IDLE_MS, storeContract } from "./contract.js";

const available = await servicesAvailable(["postgres", "redis"], "PostgreSQL+Redis store contract");

describe.skipIf(!available)("postgres+redis", () => {
  storeContract("postgres+redis", async () => {
    const schema = freshSchemaName();
    const prefix = freshRedisPrefix();
    const sql = await createPostgresStore(schemaUrl(schema));
    const store = await createRedisStore(sql, TEST_REDIS_URL, { prefix, idleTimeoutMs: CONTRACT_IDLE_MS });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchema(schema);
        await deleteRedisPrefix(prefix);
      },
    };
  });
});
