-- What the retention pruner needs to find old rows by index, in bounded batches.

-- An operation whose output chunks were deleted keeps its row (status, exit code, byte counts);
-- the flag keeps the pruner from looking at it again.
ALTER TABLE operations ADD COLUMN output_pruned boolean NOT NULL DEFAULT false;
CREATE INDEX operations_output_to_prune ON operations (completed_at)
  WHERE NOT output_pruned AND completed_at IS NOT NULL;
-- Finished operations that belong to no run (a run's operations go with their run).
CREATE INDEX operations_finished_alone ON operations (completed_at)
  WHERE automation_run_id IS NULL AND completed_at IS NOT NULL;
CREATE INDEX runs_ended ON runs (ended_at) WHERE ended_at IS NOT NULL;
