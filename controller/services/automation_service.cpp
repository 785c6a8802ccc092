#include "controller/services/automation_service.hpp"

#include "controller/services/service_error.hpp"
#include "controller/store/job_store.hpp"

namespace tether::services {

TriggerSpec webhook_token_trigger(const std::string& job_id) {
  TriggerSpec spec;
  spec.name = "automation webhook token";
  spec.job_id = job_id;
  spec.event = "webhook";
  spec.provider = "token";
  return spec;
}

bool is_webhook_token(const store::TriggerRecord& trigger) {
  return trigger.event == "webhook" && trigger.provider == std::optional<std::string>("token");
}

CreatedAutomation Automations::create(pqxx::transaction_base& txn, const auth::Operator& actor, const JobSpec& spec,
                                      store::AutomationLabel label, const std::string& client_ip) const {
  CreatedAutomation out;
  out.job = jobs_.create(txn, actor, spec, client_ip);
  label.job_id = out.job.id;
  store::automation_labels::put(txn, label);
  const auto token = triggers_.create(txn, actor, webhook_token_trigger(out.job.id), client_ip);
  if (!token.secret) throw ServiceError(Refusal::failed, "the automation's token trigger was given no token");
  out.webhook_token = *token.secret;
  return out;
}

store::JobRecord Automations::update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                     const JobSpec& spec, store::AutomationLabel label, bool names_env,
                                     const std::string& client_ip) const {
  const auto current = store::jobs::find(txn, id, true);
  if (!current) throw ServiceError(Refusal::not_found, "job not found");
  const bool keep_env = !names_env && spec.run.operation.type == current->operation_type;
  auto job = jobs_.update(txn, actor, id, spec, keep_env, client_ip);
  label.job_id = id;
  store::automation_labels::put(txn, label);
  return job;
}

store::Page<AutomationSummary> Automations::list(pqxx::transaction_base& txn, const store::PageRequest& page) const {
  const auto [jobs, next] = jobs_.list(txn, std::nullopt, page);
  std::vector<std::string> ids;
  for (const auto& job : jobs) ids.push_back(job.id);
  const auto labels = store::automation_labels::of_jobs(txn, ids);
  const auto last_runs = store::automation_labels::last_runs(txn, ids);
  store::Page<AutomationSummary> out;
  for (const auto& job : jobs) {
    AutomationSummary summary{job, std::nullopt, std::nullopt};
    if (auto it = labels.find(job.id); it != labels.end()) summary.label = it->second;
    if (auto it = last_runs.find(job.id); it != last_runs.end()) summary.last_run = it->second;
    out.rows.push_back(std::move(summary));
  }
  out.next = next;
  return out;
}

}  // namespace tether::services
