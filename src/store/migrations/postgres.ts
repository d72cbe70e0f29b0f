// Versioned schema for the PostgreSQL engine. Append new steps; never edit an old one.
// Times are epoch milliseconds in bigint columns, like the SQLite engine's integers.
// Ids use the "C" collation so ORDER BY id and `id > cursor` agree with SQLite's byte order.
import { postgresTokenMigration } from "./postgres-tokens.js";

export const postgresMigrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "users and sessions",
    sql: `
      CREATE TABLE users (
        id            text COLLATE "C" PRIMARY KEY,
        email         text COLLATE "C" NOT NULL UNIQUE,
        password_hash text NOT NULL,
        role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL,
        last_login_at bigint
      );
      CREATE INDEX users_admins ON users (id) WHERE role = 'admin';
      CREATE TABLE sessions (
        token_hash   text COLLATE "C" PRIMARY KEY,
        id           text COLLATE "C" NOT NULL UNIQUE,
        user_id      text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at   bigint NOT NULL,
        last_seen_at bigint NOT NULL,
        expires_at   bigint NOT NULL,
        user_agent   text,
        ip           text
      );
      CREATE INDEX sessions_user_id ON sessions (user_id);
      CREATE INDEX sessions_expires_at ON sessions (expires_at);
      CREATE INDEX sessions_last_seen_at ON sessions (last_seen_at);
      CREATE TABLE counters (
        key      text COLLATE "C" PRIMARY KEY,
        count    integer NOT NULL,
        reset_at bigint NOT NULL
      );
      CREATE INDEX counters_reset_at ON counters (reset_at);
    `,
  },
  { version: 2, ...postgresTokenMigration },
];
