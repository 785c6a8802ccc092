-- Maintenance windows (issue 11 §4; seed 000's /api/maintenance and seed 004's
-- /api/maintenance-windows serve the same rows). A window is one-time (starts_at, ends_at) or
-- recurring (a cron line in `timezone`, each occurrence lasting duration_seconds, none starting
-- before starts_at when it is set). Its scope is server ids, server tags and job ids; an empty
-- scope covers everything. While it is active, the scheduler's and the triggers' runs in its scope
-- are skipped (autonomy_override 'disabled') or wait for approval ('approval'); operators' own
-- runs still go and record the window.
--
-- The hand-set state: activate sets activated_at (and activated_until, or NULL: until deactivated);
-- deactivate clears it and, when an occurrence is in progress, sets suppressed_until to that
-- occurrence's end, so that a recurring window comes back at its next occurrence.
CREATE TABLE maintenance_windows (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  starts_at          timestamptz,
  ends_at            timestamptz,
  recurring          text,
  duration_seconds   integer CHECK (duration_seconds > 0),
  timezone           text NOT NULL DEFAULT 'UTC',
  scope_server_ids   uuid[] NOT NULL DEFAULT '{}',
  scope_tags         text[] NOT NULL DEFAULT '{}',
  scope_job_ids      uuid[] NOT NULL DEFAULT '{}',
  autonomy_override  text NOT NULL DEFAULT 'disabled' CHECK (autonomy_override IN ('disabled', 'approval')),
  enabled            boolean NOT NULL DEFAULT true,
  activated_at       timestamptz,
  activated_until    timestamptz,
  suppressed_until   timestamptz,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  CHECK (recurring IS NOT NULL OR (starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at)),
  CHECK (recurring IS NULL OR duration_seconds IS NOT NULL)
);
CREATE INDEX maintenance_windows_by_created ON maintenance_windows (created_at, id);

-- The window a run was fired in: {"id", "name"} (a skipped firing's, or an operator's run that
-- went ahead inside it); NULL when none covered it.
ALTER TABLE runs ADD COLUMN maintenance_window jsonb;
