#pragma once
// Maintenance windows (issue 11 §4): validation, the rows, activate and deactivate, each change
// audited (maintenance.create|update|delete|activate|deactivate). Seed 000's /api/maintenance
// and seed 004's /api/maintenance-windows both come here. When a window is active is decided by
// controller/maintenance/; what it does to runs, by the fan-out (window_gate.hpp).
#include "common/clock.hpp"
#include "controller/auth/authenticator.hpp"
#include "controller/store/maintenance_store.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::services {

// A window as its client declares it, JSON types checked (the API layer's parser); its meaning is
// checked here, with each field named as the client sent it.
struct MaintenanceInput {
  std::string name;
  std::optional<std::string> start, end;  // "2026-03-22T03:00:00" in `timezone`, or RFC 3339
  std::optional<std::string> recurring;   // a cron line
  std::optional<std::string> duration;    // "1h", or seconds as digits
  std::optional<std::string> timezone;    // default UTC
  // Seed 000's scope: each a server id or name, a job id, or "tag:<tag>" (also "server:<id or
  // name>", "job:<id>").
  std::optional<std::vector<std::string>> scope_items;
  // Tether's scope object.
  std::vector<std::string> server_ids, tags, job_ids;
  std::string autonomy_override = "disabled";
  bool enabled = true;
};

class Maintenance {
 public:
  explicit Maintenance(const Clock& clock) : clock_(clock) {}

  Clock::time_point now() const { return clock_.now(); }

  store::MaintenanceWindowRecord create(pqxx::transaction_base& txn, const auth::Operator& actor,
                                        const MaintenanceInput& input, const std::string& client_ip) const;
  // Replaces the declaration; the hand-set state (activate/deactivate) stays. not_found.
  store::MaintenanceWindowRecord replace(pqxx::transaction_base& txn, const auth::Operator& actor,
                                         const std::string& id, const MaintenanceInput& input,
                                         const std::string& client_ip) const;
  void remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
              const std::string& client_ip) const;
  // Active from now: to the end of the occurrence in progress, or a one-time window's end when it
  // is ahead, or one duration for a recurring window, or (a one-time window whose end has passed)
  // until deactivated. A deactivation in force is lifted. conflict: the window is disabled.
  store::MaintenanceWindowRecord activate(pqxx::transaction_base& txn, const auth::Operator& actor,
                                          const std::string& id, const std::string& client_ip) const;
  // Ends the activation by hand and the occurrence in progress; a recurring window is active again
  // at its next occurrence. conflict: the window is not active.
  store::MaintenanceWindowRecord deactivate(pqxx::transaction_base& txn, const auth::Operator& actor,
                                            const std::string& id, const std::string& client_ip) const;

  store::MaintenanceWindowRecord get(pqxx::transaction_base& txn, const std::string& id) const;
  // One page, oldest first.
  store::Page<store::MaintenanceWindowRecord> list(pqxx::transaction_base& txn, const store::PageRequest& page) const;
  // One page of the windows active now, in the same order: whether a window is active is computed
  // (schedules, hand-set state), so the store's pages are read until this one is full.
  store::Page<store::MaintenanceWindowRecord> active(pqxx::transaction_base& txn, const store::PageRequest& page) const;

 private:
  store::MaintenanceWindowRecord validate(pqxx::transaction_base& txn, const MaintenanceInput& input) const;
  const Clock& clock_;
};

}  // namespace tether::services
