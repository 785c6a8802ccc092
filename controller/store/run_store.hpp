#pragma once
// The runs and run_targets tables: one firing of a job (or an ad hoc fan-out), the servers it
// fans out to, one row per target and attempt, and reads of its operations and their output.
// A run's row is locked (FOR UPDATE) by whoever advances it, so that concurrent advances of one
// run, from any controller, take turns.
#include "common/clock.hpp"
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct RunRecord {
  std::string id;
  std::optional<std::string> job_id;
  std::optional<std::string> trigger_id;
  std::optional<std::string> fire_id;
  std::string status;  // scheduled | pending_approval | running | completed | failed | canceled
  std::optional<std::string> waiting_for;  // previous_run | retry (while scheduled); approval (pending_approval)
  int attempt = 1;
  std::int64_t scheduled_us = 0;
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> ended_us;
  std::optional<std::int64_t> next_attempt_us;
  std::optional<std::string> error;
  bool skipped = false;
  std::string operation_type;
  std::string operation_params_json;
  std::vector<std::string> env_keys;
  std::optional<std::string> env_sealed;
  int max_concurrency = 50;
  std::optional<int> max_errors;
  std::string retry_strategy = "none";
  int max_retries = 0;
  std::string retry_base_delay = "30s";
  std::string created_by;
  std::int64_t created_us = 0;
  // Fired by an event trigger or a webhook: the event, how many event-fired runs led to this one,
  // and the event's fields as environment variables (JSON object; not secret).
  std::optional<std::int64_t> event_id;
  int chain_depth = 0;
  std::optional<std::string> event_env_json;
  // The maintenance window the run was fired in (a firing it held, or an operator's run that went
  // ahead inside it): runs.maintenance_window {"id", "name"}.
  std::optional<std::string> maintenance_window_id;
  std::optional<std::string> maintenance_window_name;
  // Read only: the run's approval request, when it was held for one (status pending_approval
  // while it waits, waiting_for "approval").
  std::optional<std::string> approval_id;
};

// Per target, the state of its latest attempt.
struct TargetCounts {
  int total = 0, pending = 0, started = 0, succeeded = 0, failed = 0, canceled = 0;
};

struct RunOperation {
  std::optional<std::string> operation_id;  // none: the target never started
  std::string server_id;
  std::string server_name;
  int attempt = 1;
  std::string status;  // the operation's, or "canceled"/"pending" for a target never started
  std::optional<int> exit_code;
  std::optional<std::int64_t> duration_ms;
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> completed_us;
  std::optional<std::string> error;
};

struct AttemptSummary {
  int attempt = 1;
  int targets = 0;
  int failed = 0;
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> ended_us;
};

// One stored output chunk of one of a run's operations, with its place in the run's stream.
struct RunChunk {
  std::uint64_t xid;
  std::string operation_id;
  std::string server_id;
  std::uint64_t seq;
  int stream;
  std::string data;
};

namespace runs {

void insert(pqxx::transaction_base& txn, const RunRecord& run);
// Adds the targets of an attempt, in the given order, as pending.
void add_targets(pqxx::transaction_base& txn, const std::string& run_id, int attempt,
                 const std::vector<std::string>& server_ids);
std::optional<RunRecord> find(pqxx::transaction_base& txn, const std::string& id);
// The run, locked until the end of the transaction.
std::optional<RunRecord> lock(pqxx::transaction_base& txn, const std::string& id);

struct ListFilter {
  std::optional<std::string> job_id;
  std::optional<std::string> trigger_id;
  std::optional<std::string> status;
  std::optional<std::int64_t> since_us;
  std::optional<std::int64_t> until_us;
  PageRequest page;  // how many, and where the page starts
};
// One page, newest first: by (scheduled_at, id) descending, served by runs_by_scheduled, or with
// a job, a trigger or a status by runs_by_job, runs_by_trigger or runs_by_status.
Page<RunRecord> list(pqxx::transaction_base& txn, const ListFilter& filter);

// Runs of the job that are not over (running, waiting for approval, or scheduled for a retry or
// behind a previous run).
std::vector<RunRecord> active_of_job(pqxx::transaction_base& txn, const std::string& job_id);
// Firings by the trigger that were run (not skipped or dropped) created since `since`.
int fired_by_trigger_since(pqxx::transaction_base& txn, const std::string& trigger_id, Clock::time_point since);
// Firings of the job that were run (not skipped or dropped) created since `since`.
int fired_since(pqxx::transaction_base& txn, const std::string& job_id, Clock::time_point since);

// Targets whose operation has ended take its outcome: succeeded (completed, exit 0) or failed.
void settle_started_targets(pqxx::transaction_base& txn, const std::string& run_id);
// The same for the targets of these operations only (the ones the caller heard have ended).
void settle_targets_of(pqxx::transaction_base& txn, const std::string& run_id,
                       const std::vector<std::string>& operation_ids);
TargetCounts attempt_counts(pqxx::transaction_base& txn, const std::string& run_id, int attempt);
TargetCounts latest_counts(pqxx::transaction_base& txn, const std::string& run_id);
// The same for each of `run_ids` in one statement (a page of runs), by run id; a run without
// targets is absent.
std::map<std::string, TargetCounts> latest_counts_of(pqxx::transaction_base& txn,
                                                     const std::vector<std::string>& run_ids);
std::vector<std::string> next_pending(pqxx::transaction_base& txn, const std::string& run_id, int attempt, int count);
// The targets (server id -> operation id) of the attempt have started.
void mark_started(pqxx::transaction_base& txn, const std::string& run_id, int attempt,
                  const std::vector<std::pair<std::string, std::string>>& server_operations);
void mark_target(pqxx::transaction_base& txn, const std::string& run_id, int attempt, const std::string& server_id,
                 const std::string& state, const std::optional<std::string>& operation_id,
                 const std::optional<std::string>& error);
// Pending targets of the attempt end canceled with `reason`; returns how many.
int cancel_pending(pqxx::transaction_base& txn, const std::string& run_id, int attempt, const std::string& reason);
// Operations of the run's targets still under way (for a cancel).
std::vector<std::string> open_operations(pqxx::transaction_base& txn, const std::string& run_id);
// The failed targets of `attempt` become pending targets of attempt + 1; returns how many.
int retry_failed(pqxx::transaction_base& txn, const std::string& run_id, int attempt);

void mark_running(pqxx::transaction_base& txn, const std::string& id, Clock::time_point now);
// An approved run waits behind a running one of its job (overlap policy queue).
void queue_behind_previous(pqxx::transaction_base& txn, const std::string& id);
void schedule_retry(pqxx::transaction_base& txn, const std::string& id, int attempt, Clock::time_point at);
void finish(pqxx::transaction_base& txn, const std::string& id, const std::string& status,
            const std::optional<std::string>& error, Clock::time_point now);

// Runs some controller should advance now: a retry that is due, a run queued behind a previous
// run that is over, a running run with a target whose operation has ended.
std::vector<std::string> needing_advance(pqxx::transaction_base& txn, Clock::time_point now, int limit);
// The queued run of the job waiting for its previous run, if any.
std::optional<std::string> queued_of_job(pqxx::transaction_base& txn, const std::string& job_id);

std::vector<RunOperation> operations_of(pqxx::transaction_base& txn, const std::string& run_id);
std::vector<AttemptSummary> attempts_of(pqxx::transaction_base& txn, const std::string& run_id);

// Chunks of the run's operations after `after` in (xid, operation_id, seq) order, stored by
// transactions that every later reader will also see as committed (older than the oldest one
// still in progress), at most `limit`.
struct StreamCursor {
  std::uint64_t xid = 0;
  std::string operation_id;  // "" sorts first
  std::uint64_t seq = 0;
};
std::vector<RunChunk> chunks_after(pqxx::transaction_base& txn, const std::string& run_id, const StreamCursor& after,
                                   int limit);
// Whether a chunk after `after` is committed but not yet served by chunks_after, because a
// transaction older than it (of any database on the server) is still in progress. Until none is,
// a reader has not seen all the output there is, however ended the run's operations are.
bool chunks_held_back(pqxx::transaction_base& txn, const std::string& run_id, const StreamCursor& after);

}  // namespace runs
}  // namespace tether::store
