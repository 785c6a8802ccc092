#pragma once
// Seed 000's automations: a job shown with a label (the type and icon it was declared with,
// store/automation_summary_store.hpp) and a token trigger, the webhook token that is created with
// it and shown once. The job itself is the jobs service's: its rules, its audit, its secrets.
//
// Invariants kept here:
// - An automation is created whole (job, label, token trigger) in the caller's transaction.
// - A changed declaration keeps the job's env values unless it names new ones or changes the
//   operation's type, as a job's PATCH does.
#include "controller/auth/authenticator.hpp"
#include "controller/services/job_service.hpp"
#include "controller/services/trigger_service.hpp"
#include "controller/store/automation_summary_store.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

struct AutomationSummary {
  store::JobRecord job;
  std::optional<store::AutomationLabel> label;  // none: a job made elsewhere
  std::optional<store::LastRun> last_run;
};

struct CreatedAutomation {
  store::JobRecord job;
  std::string webhook_token;  // shown this once
};

// The trigger that holds an automation's webhook token (event "webhook", provider "token").
TriggerSpec webhook_token_trigger(const std::string& job_id);
bool is_webhook_token(const store::TriggerRecord& trigger);

class Automations {
 public:
  Automations(const Jobs& jobs, const Triggers& triggers) : jobs_(jobs), triggers_(triggers) {}

  // `label.job_id` is filled in here.
  CreatedAutomation create(pqxx::transaction_base& txn, const auth::Operator& actor, const JobSpec& spec,
                           store::AutomationLabel label, const std::string& client_ip) const;
  // Replaces the job's declaration and label; `names_env`: the declaration gave env values.
  // Refuses (not_found) an unknown job.
  store::JobRecord update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                          const JobSpec& spec, store::AutomationLabel label, bool names_env,
                          const std::string& client_ip) const;
  // One page of jobs, newest first, each with its label and latest run.
  store::Page<AutomationSummary> list(pqxx::transaction_base& txn, const store::PageRequest& page) const;

 private:
  const Jobs& jobs_;
  const Triggers& triggers_;
};

}  // namespace tether::services
