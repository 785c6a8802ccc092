#pragma once
// What seed 000's automation list shows beside a job: its label (the type and icon the client
// declared, sql/0007) and its latest run. Reads are bounded by the job ids asked for.
#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct AutomationLabel {
  std::string job_id;
  std::string type;  // "script", "service_control", an operation type, or a template's
  std::string icon;  // a font-awesome name, e.g. "fa-terminal"
  std::optional<std::string> template_id;
  std::string params_json = "{}";  // the params the client declared, without env values
};

// The latest run of a job (by scheduled time).
struct LastRun {
  std::string run_id;
  std::string status;
  std::int64_t scheduled_us = 0;
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> ended_us;
};

namespace automation_labels {

// Inserts the job's label or replaces it.
void put(pqxx::transaction_base& txn, const AutomationLabel& label);
std::optional<AutomationLabel> find(pqxx::transaction_base& txn, const std::string& job_id);
// The labels of those of `job_ids` that have one, by job id.
std::map<std::string, AutomationLabel> of_jobs(pqxx::transaction_base& txn, const std::vector<std::string>& job_ids);
// The latest run of each of `job_ids` that has run, by job id (served by runs_by_job).
std::map<std::string, LastRun> last_runs(pqxx::transaction_base& txn, const std::vector<std::string>& job_ids);

}  // namespace automation_labels
}  // namespace tether::store
