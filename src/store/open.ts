import { ConfigError, type Config } from "../config.js";
import { createSqliteStore } from "./sqlite.js";
import type { Store } from "./store.js";

/** The store DATABASE_URL names, migrated and ready. */
export async function openStore(
  config: Pick<Config, "database"> & { session?: Pick<Config["session"], "cacheSize"> },
): Promise<Store> {
  switch (config.database.kind) {
    case "sqlite":
      return createSqliteStore(config.database.path, { sessionCacheSize: config.session?.cacheSize });
    case "postgres":
      throw new ConfigError("DATABASE_URL=postgres:// is not supported yet: use sqlite:<path>");
  }
}
