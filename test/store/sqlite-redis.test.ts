import { join } from "node:path";
import { describe } from "vitest";
import { createRedisStore } from "../../src/store/redis/index.js";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { tempDir } from "../helpers/server.js";
import { TEST_REDIS_URL, deleteRedisPrefix, freshRedisPrefix, servicesAvailable } from "../helpers/services.js";
import { CONTRACT_IDLE_MS, storeContract } from "./contract.js";

const available = await servicesAvailable(["redis"], "SQLite+Redis store contract");

describe.skipIf(!available)("sqlite+redis", () => {
  storeContract("sqlite+redis", async () => {
    const dir = tempDir("latchkey-store-");
    const prefix = freshRedisPrefix();
    const store = await createRedisStore(createSqliteStore(join(dir.path, "store.db")), TEST_REDIS_URL, {
      prefix,
      idleTimeoutMs: CONTRACT_IDLE_MS,
    });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await deleteRedisPrefix(prefix);
        dir.remove();
      },
    };
  });
});
