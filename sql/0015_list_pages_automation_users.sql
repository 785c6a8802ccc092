-- Keyset pages (issue 12 §4) of the automation, user and approval lists: each list is read in
-- one order of (sort key, id), newest first with the id descending as the tie-breaker, and a page
-- continues with `(sort, id) < (last sort, last id)`. One index serves each order, with each
-- list's filter column first where the filter narrows the list.

-- Jobs and triggers, newest first: the indexes of 0005/0006 break ties by id ascending, which a
-- row comparison cannot continue from in one range.
DROP INDEX IF EXISTS jobs_by_created;
CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC);
DROP INDEX IF EXISTS triggers_by_created;
CREATE INDEX triggers_by_created ON triggers (created_at DESC, id DESC);

-- Runs, newest first by scheduled time: alone, of a job, of a trigger, with a status.
CREATE INDEX runs_by_scheduled ON runs (scheduled_at DESC, id DESC);
DROP INDEX IF EXISTS runs_by_job;
CREATE INDEX runs_by_job ON runs (job_id, scheduled_at DESC, id DESC) WHERE job_id IS NOT NULL;
DROP INDEX IF EXISTS runs_by_trigger;
CREATE INDEX runs_by_trigger ON runs (trigger_id, scheduled_at DESC, id DESC) WHERE trigger_id IS NOT NULL;
CREATE INDEX runs_by_status ON runs (status, scheduled_at DESC, id DESC);

-- Live sessions, newest first: all of them (admin) or one user's (profile). The second replaces
-- sessions_user for the deletes by user.
CREATE INDEX sessions_by_created ON sessions (created_at DESC, id DESC);
DROP INDEX IF EXISTS sessions_user;
CREATE INDEX sessions_user ON sessions (user_id, created_at DESC, id DESC);

-- Approvals, newest first, of one status or of all.
DROP INDEX IF EXISTS approvals_by_status;
CREATE INDEX approvals_by_status ON approvals (status, requested_at DESC, id DESC);
CREATE INDEX approvals_by_requested ON approvals (requested_at DESC, id DESC);

-- Users by username (unique: its own index serves the order); API keys and maintenance windows
-- oldest first by (created_at, id): served by the indexes of 0010/0011.
