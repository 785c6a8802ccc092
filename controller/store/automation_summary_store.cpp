#include "controller/store/automation_summary_store.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::automation_labels {
namespace {

AutomationLabel to_label(const pqxx::row& row) {
  AutomationLabel label;
  label.job_id = row[0].as<std::string>();
  label.type = row[1].as<std::string>();
  label.icon = row[2].as<std::string>();
  label.template_id = optional_text(row[3]);
  label.params_json = row[4].as<std::string>();
  return label;
}

}  // namespace

void put(pqxx::transaction_base& txn, const AutomationLabel& label) {
  txn.exec_params(
      "INSERT INTO automation_labels (job_id, type, icon, template_id, params) VALUES ($1::uuid, $2, $3, $4, $5::jsonb) "
      "ON CONFLICT (job_id) DO UPDATE SET type = EXCLUDED.type, icon = EXCLUDED.icon, "
      "template_id = EXCLUDED.template_id, params = EXCLUDED.params",
      label.job_id, label.type, label.icon, label.template_id, label.params_json);
}

std::optional<AutomationLabel> find(pqxx::transaction_base& txn, const std::string& job_id) {
  const auto result = txn.exec_params(
      "SELECT job_id::text, type, icon, template_id, params::text FROM automation_labels WHERE job_id = $1::uuid",
      job_id);
  if (result.empty()) return std::nullopt;
  return to_label(result[0]);
}

std::map<std::string, AutomationLabel> of_jobs(pqxx::transaction_base& txn, const std::vector<std::string>& job_ids) {
  std::map<std::string, AutomationLabel> out;
  if (job_ids.empty()) return out;
  for (const auto& row : txn.exec_params(
           "SELECT job_id::text, type, icon, template_id, params::text FROM automation_labels "
           "WHERE job_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)",
           to_json_array(job_ids))) {
    auto label = to_label(row);
    out.emplace(label.job_id, std::move(label));
  }
  return out;
}

std::map<std::string, LastRun> last_runs(pqxx::transaction_base& txn, const std::vector<std::string>& job_ids) {
  std::map<std::string, LastRun> out;
  if (job_ids.empty()) return out;
  // One index probe per job (runs_by_job), whatever the length of its history.
  for (const auto& row : txn.exec_params(
           "SELECT j.id::text, r.id::text, r.status, " TETHER_SQL_US("r.scheduled_at") ", " TETHER_SQL_US(
               "r.started_at") ", " TETHER_SQL_US("r.ended_at") " "
           "FROM (SELECT jsonb_array_elements_text($1::jsonb)::uuid AS id) j "
           "CROSS JOIN LATERAL (SELECT id, status, scheduled_at, started_at, ended_at FROM runs "
           "  WHERE job_id = j.id ORDER BY scheduled_at DESC LIMIT 1) r",
           to_json_array(job_ids))) {
    LastRun run;
    run.run_id = row[1].as<std::string>();
    run.status = row[2].as<std::string>();
    run.scheduled_us = row[3].as<std::int64_t>();
    run.started_us = optional_int64(row[4]);
    run.ended_us = optional_int64(row[5]);
    out.emplace(row[0].as<std::string>(), std::move(run));
  }
  return out;
}

}  // namespace tether::store::automation_labels
