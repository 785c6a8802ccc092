-- Keyset pages (controller/store/page.hpp): every list below is read in one order of (sort key,
-- id), and an index in that very order serves each page as one range scan, however deep.

-- Servers by name, compared byte by byte (COLLATE "C"): the order does not depend on the
-- database's locale, and a name prefix (?name_prefix=) is a range of this index.
CREATE INDEX servers_by_name ON servers ((name COLLATE "C"), id);
CREATE INDEX servers_by_status_name ON servers (status, (name COLLATE "C"), id);
-- ?tag=: which servers carry a tag (also what a run's tag targets look up).
CREATE INDEX servers_by_tag ON servers USING gin (tags);

-- Operations, newest first: all of them, a CI run's (?run_id=) and a key's.
CREATE INDEX operations_by_created ON operations (created_at DESC, id DESC);
DROP INDEX operations_by_run_id;
CREATE INDEX operations_by_run_id ON operations (run_id, created_at DESC, id DESC) WHERE run_id IS NOT NULL;
DROP INDEX operations_by_key;
CREATE INDEX operations_by_key ON operations (automation_key_id, created_at DESC, id DESC);

-- Deployments, newest first: all of them and an application's.
CREATE INDEX deployments_by_created ON deployments (created_at DESC, id DESC);
DROP INDEX deployments_by_application;
CREATE INDEX deployments_by_application ON deployments (application_id, created_at DESC, id DESC);

-- Applications, registry credentials and automation keys, oldest first (their order before pages).
CREATE INDEX applications_by_created ON applications (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX registry_credentials_by_created ON registry_credentials (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX automation_keys_by_created ON automation_keys (created_at, id);

-- The audit log, newest first, with its id (a bigserial) breaking ties of the time: all of it, a
-- key's and an actor's.
DROP INDEX audit_log_at;
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
DROP INDEX audit_log_by_key;
CREATE INDEX audit_log_by_key ON audit_log (key_id, at DESC, id DESC) WHERE key_id IS NOT NULL;
DROP INDEX audit_log_by_actor;
CREATE INDEX audit_log_by_actor ON audit_log (actor, at DESC, id DESC);
