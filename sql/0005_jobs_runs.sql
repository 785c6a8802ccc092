-- Jobs, their runs and the runs' targets (issue 9): what the scheduler fires and a run fans out.

-- A saved operation with targets, an optional schedule and the policies that govern its firings.
-- env values are never stored in clear: env_sealed is the JSON object of them sealed with the
-- controller's master key (AES-256-GCM); env_keys keeps the names.
CREATE TABLE jobs (
  id                     uuid PRIMARY KEY,
  name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  enabled                boolean NOT NULL DEFAULT true,
  source                 text NOT NULL DEFAULT 'dynamic' CHECK (source IN ('config', 'dynamic')),
  schedule_mode          text CHECK (schedule_mode IN ('cron', 'interval', 'at')),
  schedule_expr          text,
  schedule_interval      text,
  schedule_time          timestamptz,
  timezone               text NOT NULL DEFAULT 'UTC',
  operation_type         text NOT NULL
                         CHECK (operation_type IN ('exec', 'deploy', 'restart', 'reboot', 'registry_login', 'registry_logout')),
  operation_params       jsonb NOT NULL,        -- the type's fields without env values
  env_keys               text[] NOT NULL DEFAULT '{}',
  env_sealed             text,
  target_server_ids      uuid[] NOT NULL DEFAULT '{}',
  target_tags            text[] NOT NULL DEFAULT '{}',
  max_concurrency        text NOT NULL DEFAULT '50',   -- a number or "N%"
  max_errors             text,                          -- a number or "N%"; NULL: no limit
  retry_strategy         text NOT NULL DEFAULT 'none' CHECK (retry_strategy IN ('none', 'fixed', 'exponential')),
  max_retries            integer NOT NULL DEFAULT 0 CHECK (max_retries BETWEEN 0 AND 100),
  retry_base_delay       text NOT NULL DEFAULT '30s',
  fire_limit_max         integer CHECK (fire_limit_max > 0),
  fire_limit_window      text,
  overlap_policy         text NOT NULL DEFAULT 'skip' CHECK (overlap_policy IN ('skip', 'allow', 'queue', 'cancel_previous')),
  misfire_grace_seconds  integer NOT NULL DEFAULT 60 CHECK (misfire_grace_seconds >= 0),
  catch_up_policy        text NOT NULL DEFAULT 'skip' CHECK (catch_up_policy IN ('skip', 'run_once', 'run_all')),
  -- scheduler state
  schedule_anchor        timestamptz,           -- interval schedules count from here
  next_run_at            timestamptz,
  last_run_at            timestamptz,
  last_scheduled_at      timestamptz,
  last_fire_id           text,
  misfire_count          integer NOT NULL DEFAULT 0,
  last_misfire_at        timestamptz,
  scheduler_updated_at   timestamptz,
  created_by             text NOT NULL,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
-- What the scheduler claims: enabled jobs by due time.
CREATE INDEX jobs_due ON jobs (next_run_at) WHERE enabled AND next_run_at IS NOT NULL;
CREATE INDEX jobs_by_created ON jobs (created_at DESC, id);

-- One firing of a job (or an ad hoc fan-out). The operation and policies are copied from the job
-- at fire time, so a later edit of the job never changes a run already under way.
CREATE TABLE runs (
  id                uuid PRIMARY KEY,
  job_id            uuid,             -- kept when the job is deleted: the history stays whole
  trigger_id        uuid,
  fire_id           text,
  status            text NOT NULL CHECK (status IN ('scheduled', 'running', 'completed', 'failed', 'canceled')),
  waiting_for       text CHECK (waiting_for IN ('previous_run', 'retry')),
  attempt           integer NOT NULL DEFAULT 1,
  scheduled_at      timestamptz NOT NULL,
  started_at        timestamptz,
  ended_at          timestamptz,
  next_attempt_at   timestamptz,
  error             text,
  skipped           boolean NOT NULL DEFAULT false,   -- a firing not run (overlap, fire limit)
  operation_type    text NOT NULL,
  operation_params  jsonb NOT NULL,
  env_keys          text[] NOT NULL DEFAULT '{}',
  env_sealed        text,
  max_concurrency   integer NOT NULL CHECK (max_concurrency > 0),
  max_errors        integer CHECK (max_errors >= 0),
  retry_strategy    text NOT NULL DEFAULT 'none',
  max_retries       integer NOT NULL DEFAULT 0,
  retry_base_delay  text NOT NULL DEFAULT '30s',
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL
);
CREATE INDEX runs_by_job ON runs (job_id, scheduled_at DESC) WHERE job_id IS NOT NULL;
CREATE INDEX runs_by_created ON runs (created_at DESC, id);
CREATE INDEX runs_open ON runs (status) WHERE status IN ('scheduled', 'running');
-- Exactly once: one firing per job and due time, whichever controller fires it.
CREATE UNIQUE INDEX runs_one_per_fire ON runs (job_id, fire_id) WHERE fire_id IS NOT NULL AND job_id IS NOT NULL;

-- The servers a run fans out to, one row per target and attempt.
CREATE TABLE run_targets (
  run_id        uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  server_id     uuid NOT NULL REFERENCES servers (id),
  attempt       integer NOT NULL,
  ordinal       integer NOT NULL,
  state         text NOT NULL CHECK (state IN ('pending', 'started', 'succeeded', 'failed', 'canceled')),
  operation_id  uuid,
  error         text,
  PRIMARY KEY (run_id, attempt, server_id)
);
CREATE INDEX run_targets_pending ON run_targets (run_id, attempt, ordinal) WHERE state = 'pending';
CREATE INDEX run_targets_started ON run_targets (run_id) WHERE state = 'started';
CREATE INDEX run_targets_by_operation ON run_targets (operation_id) WHERE operation_id IS NOT NULL;

ALTER TABLE operations ADD COLUMN automation_run_id uuid REFERENCES runs (id) ON DELETE SET NULL;
ALTER TABLE operations ADD COLUMN run_attempt integer;
CREATE INDEX operations_by_automation_run ON operations (automation_run_id) WHERE automation_run_id IS NOT NULL;

-- The transaction that stored each chunk: a run's stream reads its operations' chunks in commit
-- order, only from transactions older than every one still in progress, so that resuming after
-- (xid, operation, seq) can neither repeat nor skip a chunk.
ALTER TABLE operation_output ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
