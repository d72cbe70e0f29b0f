// Versioned schema for the SQLite engine. Append new steps; never edit an old one.
export const sqliteMigrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "users and sessions",
    sql: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        email         TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        last_login_at INTEGER
      );
      CREATE TABLE sessions (
        token_hash   TEXT PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        user_agent   TEXT,
        ip           TEXT
      ) WITHOUT ROWID;
      CREATE INDEX sessions_user_id ON sessions(user_id);
      CREATE INDEX sessions_expires_at ON sessions(expires_at);
      CREATE INDEX sessions_last_seen_at ON sessions(last_seen_at);
      CREATE TABLE counters (
        key      TEXT PRIMARY KEY,
        count    INTEGER NOT NULL,
        reset_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX counters_reset_at ON counters(reset_at);
    `,
  },
  {
    version: 2,
    name: "bearer tokens and password resets",
    sql: `
      CREATE TABLE refresh_families (
        id         TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX refresh_families_user_id ON refresh_families(user_id);
      CREATE INDEX refresh_families_expires_at ON refresh_families(expires_at);
      CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        family_id  TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
        user_id    TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX refresh_tokens_family_id ON refresh_tokens(family_id);
      CREATE INDEX refresh_tokens_expires_at ON refresh_tokens(expires_at);
      CREATE TABLE reset_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX reset_tokens_user_id ON reset_tokens(user_id);
      CREATE INDEX reset_tokens_expires_at ON reset_tokens(expires_at);
      CREATE TABLE access_token_cutoffs (
        user_id        TEXT PRIMARY KEY,
        revoked_before INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "drop the unused access_token_cutoffs",
    sql: `DROP TABLE IF EXISTS access_token_cutoffs;`,
  },
  {
    version: 4,
    name: "security events and the webhook outbox",
    // events: the audit log, written in the transaction of the change it
    // records. user_id has no foreign key: an account's history outlives it.
    // webhook_pending marks rows the webhook deliverer has not yet fanned out
    // into webhook_deliveries (one row per endpoint, deleted once delivered).
    sql: `
      CREATE TABLE events (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        at              INTEGER NOT NULL,
        type            TEXT NOT NULL,
        user_id         TEXT,
        actor_id        TEXT,
        session_id      TEXT,
        ip              TEXT,
        user_agent      TEXT,
        details         TEXT NOT NULL DEFAULT '{}',
        webhook_pending INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX events_user_id ON events(user_id, seq);
      CREATE INDEX events_at ON events(at);
      CREATE INDEX events_webhook_pending ON events(seq) WHERE webhook_pending = 1;
      CREATE TABLE webhook_deliveries (
        endpoint        TEXT NOT NULL,
        event_seq       INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
        user_id         TEXT,
        status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        locked_until    INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        PRIMARY KEY (endpoint, event_seq)
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
      CREATE INDEX webhook_deliveries_user ON webhook_deliveries(endpoint, user_id, event_seq) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_event_seq ON webhook_deliveries(event_seq);
    `,
  },
  {
    version: 5,
    name: "verified email addresses and their one-time links",
    // email_verified_at: null until the address is proven (accounts made
    // before this release too). email_tokens: the SHA-256 of each emailed
    // one-time link, with the address it proves; one live link per (user, kind).
    sql: `
      ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
      CREATE TABLE email_tokens (
        token_hash TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('verify', 'email_change', 'not_me')),
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        email      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX email_tokens_user_kind ON email_tokens(user_id, kind);
      CREATE INDEX email_tokens_expires_at ON email_tokens(expires_at);
    `,
  },
  {
    version: 6,
    name: "second factors",
    // totp_factors: one authenticator per account, its secret sealed
    // (AES-256-GCM); enabled_at null while pending; last_used_step refuses a
    // replayed code. recovery_codes: SHA-256 of each unused code (a used one
    // is deleted). mfa_challenges: SHA-256 of a two-step login's challenge.
    // sessions: when and how the user last proved who they are; a session
    // made before this release was made at a password log-in (aal1).
    sql: `
      ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER;
      UPDATE sessions SET authenticated_at = created_at;
      ALTER TABLE sessions ADD COLUMN aal TEXT NOT NULL DEFAULT 'aal1' CHECK (aal IN ('aal1', 'aal2'));
      CREATE TABLE totp_factors (
        user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        secret_sealed  TEXT NOT NULL,
        created_at     INTEGER NOT NULL,
        enabled_at     INTEGER,
        last_used_step INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE recovery_codes (
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash  TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, code_hash)
      ) WITHOUT ROWID;
      CREATE TABLE mfa_challenges (
        token_hash TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('cookie', 'bearer')),
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX mfa_challenges_user_id ON mfa_challenges(user_id);
      CREATE INDEX mfa_challenges_expires_at ON mfa_challenges(expires_at);
    `,
  },
  {
    version: 7,
    name: "disabled accounts and impersonation",
    // disabled_until: an admin disabled the account until then (253402300799999,
    // the end of year 9999: until enabled again); null when enabled.
    // sessions.impersonator_id: the admin signed in as this user (null: the user).
    sql: `
      ALTER TABLE users ADD COLUMN disabled_until INTEGER;
      ALTER TABLE sessions ADD COLUMN impersonator_id TEXT;
    `,
  },
];
