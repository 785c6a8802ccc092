-- Operators as people (seed 004): users with a role, a salted password hash and an optional TOTP
-- second factor, and their login sessions. Nothing here can be used as it is stored: passwords
-- are PBKDF2 hashes ("pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>"), TOTP secrets are sealed
-- with the controller's master key (AES-256-GCM), session tokens are kept as SHA-256 digests.
CREATE TABLE users (
  id             uuid PRIMARY KEY,
  username       text NOT NULL UNIQUE,
  role           text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash  text NOT NULL,
  -- Set by /api/auth/totp/setup; required at login once totp_enabled.
  totp_secret_sealed text,
  totp_enabled   boolean NOT NULL DEFAULT false,
  -- The last TOTP time step accepted at login: a code is not accepted twice.
  totp_last_step bigint,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  id           uuid PRIMARY KEY,
  -- "tss_" and the token's first 8 hex digits: how a session is found, listed and revoked.
  token_prefix text NOT NULL,
  token_hash   text NOT NULL,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  client_ip    text,
  user_agent   text
);
CREATE INDEX sessions_token_prefix ON sessions (token_prefix);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
