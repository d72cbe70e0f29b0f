import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqliteDatabase } from "../../src/store/sqlite/index.js";
import { createSqliteEventStore } from "../../src/store/sqlite/events.js";
import { createSqliteTokenStore } from "../../src/store/sqlite/tokens.js";
import { tempDir } from "../helpers/server.js";
import { tokenStoreContract } from "./token-store-contract.js";

tokenStoreContract("sqlite", async () => {
  const dir = tempDir();
  const path = join(dir.path, "tokens.db");
  const db = openSqliteDatabase(path);
  // A second connection to the same file, as a second process would have.
  const second = new Database(path);
  second.pragma("foreign_keys = ON");
  second.pragma("busy_timeout = 5000");
  const insertUser = db.prepare(
    "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES (?, ?, 'x', 'user', 0, 0)",
  );
  return {
    tokens: createSqliteTokenStore(db, createSqliteEventStore(db, { webhookEvents: false })),
    other: createSqliteTokenStore(second, createSqliteEventStore(second, { webhookEvents: false })),
    async createUser(id) {
      insertUser.run(id, `${id}@example.com`);
    },
    async close() {
      db.close();
      second.close();
      dir.remove();
    },
  };
});
