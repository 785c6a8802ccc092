#pragma once
// The JSON of jobs and runs as the operator API returns them (jobs/runs contract, seed 002
// shapes). Times are RFC 3339 UTC with microseconds.
#include "controller/store/job_store.hpp"
#include "controller/store/run_store.hpp"
#include "controller/store/trigger_store.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::api::automation {

// Epoch microseconds as 2026-12-01T18:00:00.123456Z; null when absent.
std::string time_text(std::int64_t epoch_us);
boost::json::value nullable_time(const std::optional<std::int64_t>& epoch_us);

// JOB: never the env values, only operation.env_keys.
boost::json::object render_job(const store::JobRecord& job);

// TRIGGER: never the secret; webhook_secret_hash is its fingerprint, webhook_url the path a
// sender posts to.
boost::json::object render_trigger(const store::TriggerRecord& trigger);

// A run's maintenance window ({"id", "name"}: a firing it held, or an operator's run that went
// ahead inside it), or null.
boost::json::value maintenance_window_of(const store::RunRecord& run);

// RUN as lists show it.
boost::json::object render_run(const store::RunRecord& run, const store::TargetCounts& counts);
// RUN as GET /api/automation/runs/{id} shows it: with its attempts and operations.
boost::json::object render_run_detail(const store::RunRecord& run, const store::TargetCounts& counts,
                                      const std::vector<store::AttemptSummary>& attempts,
                                      const std::vector<store::RunOperation>& operations);
boost::json::object render_run_operation(const store::RunOperation& operation);

// RUNs of a list, each with its targets' counts (read in `txn`).
boost::json::array render_runs(pqxx::transaction_base& txn, const std::vector<store::RunRecord>& runs);

// The run statuses a filter may name (seed 002's, `delegated` included though Tether has none).
bool valid_run_status(std::string_view status);
// The statuses of a run that is over.
bool run_ended(std::string_view status);

}  // namespace tether::api::automation
