#pragma once
// The jobs table: saved operations with targets, schedules and firing policies, and the
// scheduler's state of each. Due jobs are claimed with FOR UPDATE SKIP LOCKED, so that any number
// of controllers fire each due time once.
#include "common/clock.hpp"
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct JobRecord {
  std::string id;
  std::string name;
  bool enabled = true;
  std::string source = "dynamic";
  std::optional<std::string> schedule_mode;      // cron | interval | at; none: manual only
  std::optional<std::string> schedule_expr;      // cron
  std::optional<std::string> schedule_interval;  // interval, e.g. "30s"
  std::optional<std::int64_t> schedule_time_us;  // at
  std::string timezone = "UTC";
  std::string operation_type;
  std::string operation_params_json;  // the type's fields, never env values
  std::vector<std::string> env_keys;
  std::optional<std::string> env_sealed;  // JSON object of env values sealed with the master key
  std::vector<std::string> target_server_ids;
  std::vector<std::string> target_tags;
  std::string max_concurrency = "50";
  std::optional<std::string> max_errors;
  std::string retry_strategy = "none";
  int max_retries = 0;
  std::string retry_base_delay = "30s";
  std::optional<int> fire_limit_max;
  std::optional<std::string> fire_limit_window;
  std::string overlap_policy = "skip";
  int misfire_grace_seconds = 60;
  std::string catch_up_policy = "skip";
  // Each run waits as pending_approval until one of `approvers` (usernames; none listed: any
  // operator or admin) approves it.
  bool requires_approval = false;
  std::vector<std::string> approvers;
  // Scheduler state (times in epoch microseconds).
  std::optional<std::int64_t> schedule_anchor_us;
  std::optional<std::int64_t> next_run_us;
  std::optional<std::int64_t> last_run_us;
  std::optional<std::int64_t> last_scheduled_us;
  std::optional<std::string> last_fire_id;
  int misfire_count = 0;
  std::optional<std::int64_t> last_misfire_us;
  std::optional<std::int64_t> scheduler_updated_us;
  std::string created_by;
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
};

namespace jobs {

void insert(pqxx::transaction_base& txn, const JobRecord& job);
// Writes every field of `job` but its id, creator and creation time; false when it is gone.
bool update(pqxx::transaction_base& txn, const JobRecord& job);
std::optional<JobRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update = false);
// One page, newest first: by (created_at, id) descending (index jobs_by_created).
Page<JobRecord> list(pqxx::transaction_base& txn, const std::optional<std::string>& source, const PageRequest& page);
bool remove(pqxx::transaction_base& txn, const std::string& id);

// Enabled jobs due at `now`, oldest due first, locked for this transaction; jobs another
// transaction holds are skipped (it is firing them).
std::vector<JobRecord> claim_due(pqxx::transaction_base& txn, Clock::time_point now, int limit);
// The earliest due time of any enabled job, for the scheduler's sleep.
std::optional<std::int64_t> earliest_due_us(pqxx::transaction_base& txn);

// The scheduler's state after a claim: written in the claiming transaction.
struct Firing {
  std::optional<std::int64_t> next_run_us;  // none: nothing left to fire
  bool enabled = true;
  std::optional<std::int64_t> last_run_us;        // set when a run was created
  std::optional<std::int64_t> last_scheduled_us;  // the last due time handled
  std::optional<std::string> last_fire_id;
  int misfires = 0;  // due times missed past the grace, added to misfire_count
  std::int64_t now_us = 0;
};
void record_firing(pqxx::transaction_base& txn, const std::string& id, const Firing& firing);

}  // namespace jobs
}  // namespace tether::store
