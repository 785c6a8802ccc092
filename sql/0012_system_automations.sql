-- The controller's own background loops (seed 001's "automations"): one row per loop key, created
-- on the first pass, pause or resume. The pause flag lives here, so it holds across restarts and
-- for every replica; the last pass's figures are written by whichever replica ran it.
CREATE TABLE system_automations (
  key               text PRIMARY KEY,
  paused            boolean NOT NULL DEFAULT false,
  paused_at         timestamptz,
  paused_by         text,
  last_started_at   timestamptz,
  last_completed_at timestamptz,
  last_duration_ms  bigint,
  last_error        text,
  last_instance     text,          -- the controller instance that ran the last pass
  metrics           jsonb NOT NULL DEFAULT '{}',
  runs              bigint NOT NULL DEFAULT 0,
  failures          bigint NOT NULL DEFAULT 0
);
