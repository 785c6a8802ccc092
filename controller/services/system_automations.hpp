#pragma once
// Seed 001's automations: the controller's background loops (automations/catalog.hpp) with their
// live state, last pass and metrics, an operator's immediate run, and pause/resume (persisted in
// system_automations, so it holds across restarts and on every replica). Changes are audited
// (automations.run, automations.pause, automations.resume).
#include "common/clock.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/automations/cadence.hpp"
#include "controller/automations/loop_runner.hpp"
#include "controller/store/system_automation_store.hpp"

#include <memory>
#include <string>
#include <vector>

namespace tether::services {

struct AutomationView {
  const automations::LoopSpec* spec = nullptr;
  std::string state;  // active | running | paused | idle | degraded
  store::system_automations::Row row;
};

class SystemAutomations {
 public:
  SystemAutomations(const Clock& clock, std::string instance) : clock_(clock), instance_(std::move(instance)) {}

  // Registers a loop (in catalog order); `cadence` is null for a manual-only loop.
  void add(std::shared_ptr<automations::LoopRunner> runner, std::shared_ptr<automations::Cadence> cadence);
  void start();
  void stop();
  bool knows(const std::string& key) const;

  std::vector<AutomationView> list(pqxx::transaction_base& txn) const;
  // Refusal::not_found for an unknown key.
  AutomationView get(pqxx::transaction_base& txn, const std::string& key) const;
  // Runs a pass now on `connection` and waits for it; a pass already under way (here or on a
  // replica) is not doubled: the current view is returned. Refusal::failed with the pass's error
  // when it threw.
  AutomationView run(pqxx::connection& connection, const auth::Operator& caller, const std::string& client_ip,
                     const std::string& key);
  // Refusal::failed for a loop that cannot be paused.
  AutomationView set_paused(pqxx::transaction_base& txn, const auth::Operator& caller, const std::string& client_ip,
                            const std::string& key, bool paused);

 private:
  struct Entry {
    std::shared_ptr<automations::LoopRunner> runner;
    std::shared_ptr<automations::Cadence> cadence;
  };
  const Entry& entry(const std::string& key) const;
  AutomationView view_of(const Entry& entry, store::system_automations::Row row) const;

  const Clock& clock_;
  std::string instance_;
  std::vector<Entry> entries_;
};

}  // namespace tether::services
