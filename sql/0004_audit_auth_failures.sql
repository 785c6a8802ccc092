-- Failed authentications are aggregated: one row per client address and window (aggregate_key),
-- counting its calls in `failures` up to `last_at`. What an unauthenticated caller said about
-- itself (server_id, run_id) is kept as claimed, apart from the server_id and run_id columns
-- that the audit view filters on, so that nobody can write rows into a real run's trail
-- without a key.
ALTER TABLE audit_log
  ADD COLUMN claimed_server_id text,
  ADD COLUMN claimed_run_id    text,
  ADD COLUMN failures          integer,
  ADD COLUMN last_at           timestamptz,
  ADD COLUMN aggregate_key     text;
CREATE UNIQUE INDEX audit_log_aggregate ON audit_log (aggregate_key) WHERE aggregate_key IS NOT NULL;
