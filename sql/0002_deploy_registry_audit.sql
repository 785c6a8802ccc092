-- Deploy targets, deployments, registry credentials, and an audit log that can be filtered.

CREATE TABLE applications (
  id             uuid PRIMARY KEY,
  name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  server_id      uuid NOT NULL REFERENCES servers (id),
  directory      text NOT NULL CHECK (length(directory) BETWEEN 1 AND 4096),
  deploy_branch  text NOT NULL DEFAULT 'main',
  deploy_command text NOT NULL DEFAULT 'docker compose up -d',
  created_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz
);
CREATE UNIQUE INDEX applications_live_name ON applications (name) WHERE deleted_at IS NULL;

CREATE TABLE deployments (
  id              uuid PRIMARY KEY,
  application_id  uuid NOT NULL REFERENCES applications (id),
  operation_id    uuid NOT NULL UNIQUE REFERENCES operations (id),
  commit_ref      text NOT NULL,
  resolved_commit text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_by_application ON deployments (application_id, created_at DESC);

-- The password is AES-256-GCM encrypted with the controller's master key: nonce || ciphertext || tag.
CREATE TABLE registry_credentials (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  registry_url       text NOT NULL,
  registry_type      text NOT NULL CHECK (registry_type IN ('ghcr', 'dockerhub', 'ecr', 'gcr', 'generic')),
  username           text NOT NULL,
  password_encrypted bytea NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz
);

ALTER TABLE audit_log
  ADD COLUMN key_id       uuid,
  ADD COLUMN server_id    uuid,
  ADD COLUMN operation_id uuid,
  ADD COLUMN run_id       text,
  ADD COLUMN status_code  integer;
CREATE INDEX audit_log_by_key ON audit_log (key_id, at DESC) WHERE key_id IS NOT NULL;
CREATE INDEX audit_log_by_run ON audit_log (run_id) WHERE run_id IS NOT NULL;
