#include "controller/services/system_automations.hpp"

#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/system_automation_locks.hpp"

#include <boost/json.hpp>

namespace tether::services {
namespace {

// A loop whose lock another session holds (a pass on another replica, or on another connection
// here) reads as running, unless it is paused: a paused loop's cadence takes the lock only to read
// the flag.
void mark_running_elsewhere(AutomationView& view, const std::set<std::string>& locked) {
  if (view.state != "running" && view.state != "paused" && locked.contains(view.spec->key)) view.state = "running";
}

void audit(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& action, const std::string& key,
           const std::string& client_ip, const std::string& outcome, boost::json::object detail = {}) {
  store::audit::record(txn, {caller.actor(), action, key, client_ip, outcome, boost::json::serialize(detail)});
}

}  // namespace

void SystemAutomations::add(std::shared_ptr<automations::LoopRunner> runner,
                            std::shared_ptr<automations::Cadence> cadence) {
  entries_.push_back({std::move(runner), std::move(cadence)});
}

void SystemAutomations::start() {
  for (auto& entry : entries_) {
    if (entry.cadence) entry.cadence->start();
  }
}

void SystemAutomations::stop() {
  for (auto& entry : entries_) {
    if (entry.cadence) entry.cadence->stop();
  }
}

bool SystemAutomations::knows(const std::string& key) const {
  for (const auto& entry : entries_) {
    if (entry.runner->spec().key == key) return true;
  }
  return false;
}

const SystemAutomations::Entry& SystemAutomations::entry(const std::string& key) const {
  for (const auto& entry : entries_) {
    if (entry.runner->spec().key == key) return entry;
  }
  throw ServiceError(Refusal::not_found, "Automation not found: " + key);
}

AutomationView SystemAutomations::view_of(const Entry& entry, store::system_automations::Row row) const {
  const auto& spec = entry.runner->spec();
  AutomationView view;
  view.spec = &spec;
  view.state = automations::derive_state(spec, entry.runner->running(), row.paused, row.last_error.has_value());
  view.row = std::move(row);
  return view;
}

std::vector<AutomationView> SystemAutomations::list(pqxx::transaction_base& txn) const {
  std::vector<std::string> keys;
  for (const auto& entry : entries_) keys.push_back(entry.runner->spec().key);
  auto rows = store::system_automations::load(txn, keys);
  const auto locked = store::system_automations::locked_keys(txn, keys);
  std::vector<AutomationView> out;
  for (const auto& entry : entries_) {
    store::system_automations::Row row;
    row.key = entry.runner->spec().key;
    for (auto& loaded : rows) {
      if (loaded.key == row.key) row = loaded;
    }
    out.push_back(view_of(entry, std::move(row)));
    mark_running_elsewhere(out.back(), locked);
  }
  return out;
}

AutomationView SystemAutomations::get(pqxx::transaction_base& txn, const std::string& key) const {
  const auto& found = entry(key);
  auto rows = store::system_automations::load(txn, {key});
  store::system_automations::Row row;
  row.key = key;
  if (!rows.empty()) row = std::move(rows.front());
  auto view = view_of(found, std::move(row));
  mark_running_elsewhere(view, store::system_automations::locked_keys(txn, {key}));
  return view;
}

AutomationView SystemAutomations::run(pqxx::connection& connection, const auth::Operator& caller,
                                      const std::string& client_ip, const std::string& key) {
  const auto& found = entry(key);
  if (!found.runner->spec().triggerable) {
    throw ServiceError(Refusal::failed, "Automation " + key + " cannot be triggered");
  }
  automations::PgLoopBackend backend(connection, instance_);
  const auto result = found.runner->run(backend, automations::Trigger::manual);
  {
    pqxx::work txn(connection);
    boost::json::object detail{{"outcome", automations::outcome_name(result.outcome)}};
    if (result.outcome == automations::Outcome::failed) detail["error"] = result.error;
    audit(txn, caller, "automations.run", key, client_ip,
          result.outcome == automations::Outcome::failed ? "failed" : "allowed", std::move(detail));
    txn.commit();
  }
  if (result.outcome == automations::Outcome::failed) throw ServiceError(Refusal::failed, result.error);
  pqxx::read_transaction txn(connection);
  return get(txn, key);
}

AutomationView SystemAutomations::set_paused(pqxx::transaction_base& txn, const auth::Operator& caller,
                                             const std::string& client_ip, const std::string& key, bool paused) {
  const auto& found = entry(key);
  if (!found.runner->spec().pausable) {
    throw ServiceError(Refusal::failed, "Automation " + key + " does not support " + (paused ? "pause" : "resume"));
  }
  store::system_automations::set_paused(txn, key, paused, clock_.now(), caller.actor());
  audit(txn, caller, paused ? "automations.pause" : "automations.resume", key, client_ip, "allowed");
  return get(txn, key);
}

}  // namespace tether::services
