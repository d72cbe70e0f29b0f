// PostgreSQL schema for the TokenStore (the SQLite twin is migration 2 in
// sqlite.ts). The lead appends this step to the PostgreSQL migration list.
// No foreign keys to users on purpose: this DDL does not depend on the users
// table's column types, and a deleted user's leftovers are harmless (every
// use of a token reads the user) and are removed by revokeUserTokens/pruning.
export const postgresTokenMigration = {
  name: "bearer tokens and password resets",
  sql: `
    CREATE TABLE IF NOT EXISTS refresh_families (
      id         TEXT PRIMARY KEY,
      user_id    TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS refresh_families_user_id ON refresh_families(user_id);
    CREATE INDEX IF NOT EXISTS refresh_families_expires_at ON refresh_families(expires_at);
    CREATE TABLE IF NOT EXISTS refresh_tokens (
      token_hash TEXT PRIMARY KEY,
      family_id  TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
      user_id    TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      used_at    BIGINT
    );
    CREATE INDEX IF NOT EXISTS refresh_tokens_family_id ON refresh_tokens(family_id);
    CREATE INDEX IF NOT EXISTS refresh_tokens_expires_at ON refresh_tokens(expires_at);
    CREATE TABLE IF NOT EXISTS reset_tokens (
      token_hash TEXT PRIMARY KEY,
      user_id    TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS reset_tokens_user_id ON reset_tokens(user_id);
    CREATE INDEX IF NOT EXISTS reset_tokens_expires_at ON reset_tokens(expires_at);
    CREATE TABLE IF NOT EXISTS access_token_cutoffs (
      user_id        TEXT PRIMARY KEY,
      revoked_before BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `,
};
