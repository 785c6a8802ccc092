-- Servers, keys, operations and their output: what the v1 exec path needs.

CREATE TABLE servers (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  tags               text[] NOT NULL DEFAULT '{}',
  status             text NOT NULL DEFAULT 'provisioning'
                     CHECK (status IN ('provisioning', 'active', 'unreachable', 'decommissioned')),
  agent_token_prefix text,
  agent_token_hash   text,
  hostname           text,
  os                 text,
  kernel             text,
  arch               text,
  agent_version      text,
  boot_id            text,
  last_seen_at       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  decommissioned_at  timestamptz
);
CREATE UNIQUE INDEX servers_agent_token_prefix ON servers (agent_token_prefix) WHERE agent_token_prefix IS NOT NULL;
CREATE UNIQUE INDEX servers_live_name ON servers (name) WHERE status <> 'decommissioned';

-- Which controller instance holds which server's agent socket.
CREATE TABLE agent_sessions (
  server_id           uuid PRIMARY KEY REFERENCES servers (id) ON DELETE CASCADE,
  controller_instance text NOT NULL,
  connected_at        timestamptz NOT NULL DEFAULT now()
);

-- Operator API keys (tak_...). Only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
  id           uuid PRIMARY KEY,
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  key_prefix   text NOT NULL UNIQUE,
  key_hash     text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- CI automation keys (rca_...), seed 003 scopes. Empty arrays mean "all".
CREATE TABLE automation_keys (
  id                     uuid PRIMARY KEY,
  name                   text NOT NULL,
  key_prefix             text NOT NULL UNIQUE,
  key_hash               text NOT NULL,
  allowed_server_ids     uuid[] NOT NULL DEFAULT '{}',
  allowed_operations     text[] NOT NULL DEFAULT '{}',
  allowed_credential_ids uuid[] NOT NULL DEFAULT '{}',
  ip_allowlist           cidr[] NOT NULL DEFAULT '{}',
  rate_limit_per_minute  integer NOT NULL DEFAULT 100 CHECK (rate_limit_per_minute BETWEEN 1 AND 1000),
  expires_at             timestamptz,
  revoked_at             timestamptz,
  last_used_at           timestamptz,
  created_by             text NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now()
);

-- One operation on one server. params never hold env values; env_keys keeps the names only.
CREATE TABLE operations (
  id                uuid PRIMARY KEY,
  type              text NOT NULL
                    CHECK (type IN ('exec', 'deploy', 'restart', 'reboot', 'registry_login', 'registry_logout')),
  server_id         uuid NOT NULL REFERENCES servers (id),
  params            jsonb NOT NULL DEFAULT '{}',
  env_keys          text[] NOT NULL DEFAULT '{}',
  status            text NOT NULL
                    CHECK (status IN ('queued', 'dispatched', 'running', 'completed', 'failed', 'timeout', 'canceled')),
  exit_code         integer,
  duration_ms       bigint,
  timeout_seconds   integer NOT NULL CHECK (timeout_seconds BETWEEN 1 AND 86400),
  run_id            text,
  run_context       jsonb,
  created_by        text NOT NULL,
  automation_key_id uuid REFERENCES automation_keys (id),
  error             text,
  output_seq        bigint NOT NULL DEFAULT 0,   -- highest output chunk stored (chunks are numbered from 1)
  stdout_bytes      bigint NOT NULL DEFAULT 0,
  stderr_bytes      bigint NOT NULL DEFAULT 0,
  stdout_truncated  boolean NOT NULL DEFAULT false,
  stderr_truncated  boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now(),
  dispatched_at     timestamptz,
  started_at        timestamptz,
  completed_at      timestamptz
);
CREATE INDEX operations_open_by_server ON operations (server_id) WHERE status IN ('queued', 'dispatched', 'running');
CREATE INDEX operations_by_run_id ON operations (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX operations_by_key ON operations (automation_key_id, created_at DESC);

-- Output chunks as the agent numbered them; stream 1 = stdout, 2 = stderr.
CREATE TABLE operation_output (
  operation_id uuid NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
  seq          bigint NOT NULL,
  stream       smallint NOT NULL CHECK (stream IN (1, 2)),
  data         bytea NOT NULL,
  PRIMARY KEY (operation_id, seq)
);

CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  action    text NOT NULL,
  target    text,
  client_ip text,
  outcome   text NOT NULL,
  detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
