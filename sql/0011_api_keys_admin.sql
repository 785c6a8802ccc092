-- Operator API keys (tak_) managed over HTTP (GET/POST /api/admin/api-keys, DELETE .../{key_id}):
-- who made each key ("cli" for `tether-controller admin create-key`, else the admin's actor) and
-- when it stops working on its own. A revoked key's row stays, for the audit trail.
ALTER TABLE api_keys
  ADD COLUMN created_by text NOT NULL DEFAULT 'cli',
  ADD COLUMN expires_at timestamptz;
CREATE INDEX api_keys_by_created ON api_keys (created_at, id);
-- The audit log read by actor (?username=, ?actor=).
CREATE INDEX audit_log_by_actor ON audit_log (actor, at DESC);
