#include "controller/services/portability.hpp"

#include "common/json_fields.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tether::services {
namespace {

// A refusal of one item, with its place in front: "jobs[2].schedule.expr: ..." for the field
// rules (whose messages start with the field), "jobs[2]: ..." for the rest.
template <class Create>
auto at_place(const std::string& place, Create&& create) {
  try {
    return create();
  } catch (const ServiceError& e) {
    const auto separator = e.refusal() == Refusal::invalid ? "." : ": ";
    throw ServiceError(e.refusal(), place + separator + e.what());
  }
}

template <class T>
std::vector<T> oldest_first(std::vector<T> items, const char* kind) {
  if (items.size() > static_cast<std::size_t>(max_exported_items)) {
    throw ServiceError(Refusal::conflict,
                       fmt::format("more than {} {}: too many to export in one document", max_exported_items, kind));
  }
  std::reverse(items.begin(), items.end());  // the lists are newest first
  return items;
}

}  // namespace

AutomationSet Portability::export_all(pqxx::transaction_base& txn) const {
  AutomationSet set;
  // One page of one more than fits: more is refused, never cut short.
  const store::PageRequest all{max_exported_items + 1, std::nullopt};
  set.jobs = oldest_first(jobs_.list(txn, std::nullopt, all).rows, "jobs");
  set.triggers = oldest_first(triggers_.list(txn, std::nullopt, std::nullopt, all).rows, "triggers");
  std::vector<std::string> job_ids;
  for (const auto& job : set.jobs) job_ids.push_back(job.id);
  set.labels = store::automation_labels::of_jobs(txn, job_ids);
  return set;
}

ImportResult Portability::import(pqxx::transaction_base& txn, const auth::Operator& actor, const ImportPlan& plan,
                                 const std::string& client_ip) const {
  if (plan.jobs.size() > max_imported_items) {
    throw ServiceError(Refusal::invalid, fmt::format("jobs: at most {} jobs may be imported at once", max_imported_items));
  }
  if (plan.triggers.size() > max_imported_items) {
    throw ServiceError(Refusal::invalid,
                       fmt::format("triggers: at most {} triggers may be imported at once", max_imported_items));
  }
  ImportResult result;
  std::map<std::string, std::string> new_job_ids;
  for (const auto& item : plan.jobs) {
    if (new_job_ids.count(item.old_id)) {
      throw ServiceError(Refusal::invalid, item.place + ".id: " + item.old_id + " is the id of an earlier job");
    }
    auto job = at_place(item.place, [&] { return jobs_.create(txn, actor, item.spec, client_ip); });
    if (item.label) {
      auto label = *item.label;
      label.job_id = job.id;
      store::automation_labels::put(txn, label);
    }
    std::vector<std::string> missing;
    for (const auto& key : item.env_keys) {
      if (!item.spec.run.operation.env.count(key)) missing.push_back(key);
    }
    if (!missing.empty()) result.env_to_set.emplace_back(job.id, std::move(missing));
    new_job_ids.emplace(item.old_id, job.id);
    result.job_ids.emplace_back(item.old_id, job.id);
    result.jobs.push_back(std::move(job));
  }
  std::set<std::string> seen_triggers;
  for (const auto& item : plan.triggers) {
    if (!seen_triggers.insert(item.old_id).second) {
      throw ServiceError(Refusal::invalid, item.place + ".id: " + item.old_id + " is the id of an earlier trigger");
    }
    const auto job = new_job_ids.find(item.spec.job_id);
    if (job == new_job_ids.end()) {
      throw ServiceError(Refusal::invalid, item.place + ".job_id: job " + item.spec.job_id +
                                               " is not among the jobs of the document");
    }
    auto spec = item.spec;
    spec.job_id = job->second;
    auto created = at_place(item.place, [&] { return triggers_.create(txn, actor, spec, client_ip); });
    result.trigger_ids.emplace_back(item.old_id, created.trigger.id);
    result.triggers.push_back(std::move(created));
  }
  store::audit::record(txn, {actor.actor(), "automation.import", std::nullopt, client_ip, "allowed",
                             json::serialize(boost::json::object{{"jobs", result.jobs.size()},
                                                                 {"triggers", result.triggers.size()}})});
  return result;
}

}  // namespace tether::services
