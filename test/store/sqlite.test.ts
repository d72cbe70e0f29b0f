import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite/index.js";
import { tempDir } from "../helpers/server.js";
import { storeContract } from "./contract.js";

storeContract("sqlite", async () => {
  const dir = tempDir("latchkey-store-");
  const store = createSqliteStore(join(dir.path, "store.db"));
  return {
    store,
    cleanup: async () => {
      await store.close();
      dir.remove();
    },
  };
});
