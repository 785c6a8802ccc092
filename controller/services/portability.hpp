#pragma once
// Export and import of the automation set: every job and trigger as one document, to back it up
// or move it to another controller. The document never holds a secret: no env values (a job shows
// only their names), no webhook secret or token.
//
// Invariants kept here:
// - An import is all or nothing: every item is created in the caller's transaction, and the first
//   item refused refuses the whole import, naming the item's place and field ("jobs[2].targets...").
// - Imported items get new ids; a trigger follows its job to the job's new id, and a trigger whose
//   job is not in the document is refused.
// - A webhook trigger gets a fresh secret (or token), returned once; a job whose env values were
//   left behind is named with their keys, so that its owner can set them again.
#include "controller/auth/authenticator.hpp"
#include "controller/services/job_service.hpp"
#include "controller/services/trigger_service.hpp"
#include "controller/store/automation_summary_store.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/trigger_store.hpp"

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tether::services {

// The most an export holds of each kind (more is refused: conflict), and an import.
inline constexpr int max_exported_items = 10000;
inline constexpr std::size_t max_imported_items = 1000;

// Everything an export shows, oldest first; labels by job id (seed 000's type and icon).
struct AutomationSet {
  std::vector<store::JobRecord> jobs;
  std::vector<store::TriggerRecord> triggers;
  std::map<std::string, store::AutomationLabel> labels;
};

// One job of an import document, validated by the API layer's parser.
struct ImportedJob {
  std::string place;   // where it is in the document, e.g. "jobs[2]": refusals are prefixed with it
  std::string old_id;  // its id in the document, what triggers name it by
  JobSpec spec;        // env values only when the document gave some (an export never does)
  std::vector<std::string> env_keys;      // the names the document says the job's env had
  std::optional<store::AutomationLabel> label;  // job_id is filled in here
};

// One trigger of an import document; spec.job_id is the document's id of its job.
struct ImportedTrigger {
  std::string place;
  std::string old_id;
  TriggerSpec spec;
};

struct ImportPlan {
  std::vector<ImportedJob> jobs;
  std::vector<ImportedTrigger> triggers;
};

struct ImportResult {
  std::vector<std::pair<std::string, std::string>> job_ids;      // old id -> new id, in document order
  std::vector<std::pair<std::string, std::string>> trigger_ids;  // the same for triggers
  std::vector<store::JobRecord> jobs;                            // as created, in document order
  std::vector<TriggerWithSecret> triggers;                       // with the fresh secret of a webhook
  // Jobs created without some of their env values: new job id and the keys to set again.
  std::vector<std::pair<std::string, std::vector<std::string>>> env_to_set;
};

class Portability {
 public:
  Portability(const Jobs& jobs, const Triggers& triggers) : jobs_(jobs), triggers_(triggers) {}

  // Every job and trigger, oldest first. Refuses (conflict) more than max_exported_items of a kind.
  AutomationSet export_all(pqxx::transaction_base& txn) const;

  // Creates every item of `plan` in `txn` (the caller commits). Refuses (invalid) a repeated id,
  // a trigger whose job is not among the plan's jobs, more than max_imported_items of a kind, and
  // whatever the jobs and triggers services refuse, with the item's place in front of the message.
  ImportResult import(pqxx::transaction_base& txn, const auth::Operator& actor, const ImportPlan& plan,
                      const std::string& client_ip) const;

 private:
  const Jobs& jobs_;
  const Triggers& triggers_;
};

}  // namespace tether::services
