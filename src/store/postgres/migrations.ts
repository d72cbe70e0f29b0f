// Versioned schema for the PostgreSQL engine. Append new steps; never edit an old one.
// Times are epoch milliseconds in bigint columns, like the SQLite engine's integers.
// Ids use the "C" collation so ORDER BY id and `id > cursor` agree with SQLite's byte order.

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
  {
    version: 2,
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
  },
  {
    version: 3,
    name: "token rows go with their user; drop the unused access_token_cutoffs",
    // Like SQLite's foreign keys since migration 2: deleting a user deletes its
    // refresh families (and by their cascade its refresh tokens) and its reset
    // links. Rows left by users deleted before this migration are removed first.
    sql: `
      DELETE FROM refresh_families f WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = f.user_id);
      DELETE FROM reset_tokens t WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id);
      ALTER TABLE refresh_families
        ALTER COLUMN user_id TYPE text COLLATE "C",
        ADD CONSTRAINT refresh_families_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
      ALTER TABLE reset_tokens
        ALTER COLUMN user_id TYPE text COLLATE "C",
        ADD CONSTRAINT reset_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
      DROP TABLE IF EXISTS access_token_cutoffs;
    `,
  },
  {
    version: 4,
    name: "security events and the webhook outbox",
    // As SQLite's migration 4: events without a foreign key to users (history
    // outlives the account), webhook_deliveries deleted once delivered.
    sql: `
      CREATE TABLE events (
        seq             bigserial PRIMARY KEY,
        id              text COLLATE "C" NOT NULL UNIQUE,
        at              bigint NOT NULL,
        type            text COLLATE "C" NOT NULL,
        user_id         text COLLATE "C",
        actor_id        text COLLATE "C",
        session_id      text COLLATE "C",
        ip              text,
        user_agent      text,
        details         jsonb NOT NULL DEFAULT '{}',
        webhook_pending boolean NOT NULL DEFAULT false
      );
      CREATE INDEX events_user_id ON events (user_id, seq);
      CREATE INDEX events_at ON events (at);
      CREATE INDEX events_webhook_pending ON events (seq) WHERE webhook_pending;
      CREATE TABLE webhook_deliveries (
        endpoint        text COLLATE "C" NOT NULL,
        event_seq       bigint NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
        user_id         text COLLATE "C",
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed')),
        attempts        integer NOT NULL DEFAULT 0,
        created_at      bigint NOT NULL,
        next_attempt_at bigint NOT NULL,
        locked_until    bigint NOT NULL DEFAULT 0,
        last_error      text,
        PRIMARY KEY (endpoint, event_seq)
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
      CREATE INDEX webhook_deliveries_user ON webhook_deliveries (endpoint, user_id, event_seq) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_event_seq ON webhook_deliveries (event_seq);
    `,
  },
  {
    version: 5,
    name: "verified email addresses and their one-time links",
    // As SQLite's migration 5.
    sql: `
      ALTER TABLE users ADD COLUMN email_verified_at bigint;
      CREATE TABLE email_tokens (
        token_hash text COLLATE "C" PRIMARY KEY,
        kind       text NOT NULL CHECK (kind IN ('verify', 'email_change', 'not_me')),
        user_id    text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        email      text COLLATE "C" NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX email_tokens_user_kind ON email_tokens (user_id, kind);
      CREATE INDEX email_tokens_expires_at ON email_tokens (expires_at);
    `,
  },
  {
    version: 6,
    name: "second factors",
    // As SQLite's migration 6.
    sql: `
      ALTER TABLE sessions ADD COLUMN authenticated_at bigint;
      UPDATE sessions SET authenticated_at = created_at;
      ALTER TABLE sessions ADD COLUMN aal text NOT NULL DEFAULT 'aal1' CHECK (aal IN ('aal1', 'aal2'));
      CREATE TABLE totp_factors (
        user_id        text COLLATE "C" PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        secret_sealed  text NOT NULL,
        created_at     bigint NOT NULL,
        enabled_at     bigint,
        last_used_step bigint
      );
      CREATE TABLE recovery_codes (
        user_id    text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash  text COLLATE "C" NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (user_id, code_hash)
      );
      CREATE TABLE mfa_challenges (
        token_hash text COLLATE "C" PRIMARY KEY,
        kind       text NOT NULL CHECK (kind IN ('cookie', 'bearer')),
        user_id    text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX mfa_challenges_user_id ON mfa_challenges (user_id);
      CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
    `,
  },
  {
    version: 7,
    name: "disabled accounts and impersonation",
    // As SQLite's migration 7.
    sql: `
      ALTER TABLE users ADD COLUMN disabled_until bigint;
      ALTER TABLE sessions ADD COLUMN impersonator_id text COLLATE "C";
    `,
  },
];
