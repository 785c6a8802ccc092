-- Approvals (issue 11 §3): a job may require that each of its runs be approved before any target
-- starts. Such a run is inserted as 'pending_approval' (waiting_for 'approval') with its targets
-- pending, next to one approval request; approving it starts the run, rejecting it or letting it
-- expire cancels the run with that reason.

ALTER TABLE jobs ADD COLUMN requires_approval boolean NOT NULL DEFAULT false;
-- Usernames who may decide; empty: any operator or admin (never the one who asked for the run).
ALTER TABLE jobs ADD COLUMN approvers text[] NOT NULL DEFAULT '{}';

ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
  CHECK (status IN ('scheduled', 'pending_approval', 'running', 'completed', 'failed', 'canceled'));
ALTER TABLE runs DROP CONSTRAINT runs_waiting_for_check;
ALTER TABLE runs ADD CONSTRAINT runs_waiting_for_check
  CHECK (waiting_for IN ('previous_run', 'retry', 'approval'));
ALTER TABLE runs ADD CONSTRAINT runs_pending_approval_waits
  CHECK ((status = 'pending_approval') = (waiting_for IS NOT DISTINCT FROM 'approval'));

CREATE TABLE approvals (
  id            uuid PRIMARY KEY,
  run_id        uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  job_id        uuid,             -- kept when the job is deleted, as the run keeps it
  status        text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'canceled')),
  reason        text NOT NULL,    -- why the run waits ("the job requires approval", a maintenance window)
  approvers     text[] NOT NULL DEFAULT '{}',  -- copied from the job when the run was fired
  -- The actor that created the run: user:<name>, api_key:<id>, job:<id> (the scheduler),
  -- trigger:<id>. It may never decide its own request.
  requested_by  text NOT NULL,
  requested_at  timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  decided_by    text,             -- the actor that approved, rejected or canceled it; 'system' for an expiry
  decided_at    timestamptz,
  comment       text,
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- Lists by status, newest first; the count of pending ones.
CREATE INDEX approvals_by_status ON approvals (status, requested_at DESC, id);
-- The expiry sweep: pending requests by expiry time.
CREATE INDEX approvals_expiring ON approvals (expires_at) WHERE status = 'pending';
-- A run's request (run views show its id; a cancel of the run cancels it).
CREATE INDEX approvals_by_run ON approvals (run_id);
