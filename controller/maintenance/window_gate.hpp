#pragma once
// What maintenance windows say about a run about to be fired (the seam with the run fan-out,
// runs/fanout.cpp): the strictest window active now whose scope covers the job or one of the run's
// servers. The fan-out acts on it for the scheduler's and the triggers' firings (skip: the firing
// is recorded, canceled, naming the window; approval: the run waits for approval) and records it
// on an operator's own run, which still goes.
#include "common/clock.hpp"
#include "controller/maintenance/window_schedule.hpp"
#include "controller/store/maintenance_store.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::maintenance {

struct Gate {
  enum class Kind { none, skip, approval } kind = Kind::none;
  std::string window_id, window_name;
};

// The strictest window active at `now` whose scope covers the job or any of the servers
// (skip > approval; among equals, the oldest).
Gate gate_for(pqxx::transaction_base& txn, Clock::time_point now, const std::optional<std::string>& job_id,
              const std::vector<std::string>& server_ids);

// A stored window's schedule and hand-set state. The row was validated when it was written; a
// zone or cron line that no longer reads (a zone removed from the system's database) makes the
// window one that never recurs, logged.
Schedule schedule_of(const store::MaintenanceWindowRecord& window);
ManualState manual_state_of(const store::MaintenanceWindowRecord& window);
Activity activity_of(const store::MaintenanceWindowRecord& window, Clock::time_point now);

}  // namespace tether::maintenance
