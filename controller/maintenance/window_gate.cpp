#include "controller/maintenance/window_gate.hpp"

#include "common/schedule_spec.hpp"
#include "controller/store/sql_text.hpp"

#include <spdlog/spdlog.h>

namespace tether::maintenance {
namespace {

std::optional<TimePoint> time_of(const std::optional<std::int64_t>& epoch_us) {
  if (!epoch_us) return std::nullopt;
  return store::from_epoch_micros(*epoch_us);
}

}  // namespace

Schedule schedule_of(const store::MaintenanceWindowRecord& window) {
  Schedule schedule;
  schedule.start = time_of(window.start_us);
  schedule.end = time_of(window.end_us);
  schedule.duration = std::chrono::seconds(window.duration_seconds.value_or(0));
  if (window.recurring) {
    try {
      schedule.zone = schedule::load_zone(window.timezone);
      schedule.recurring = cron::Expression::parse(*window.recurring);
    } catch (const cron::InvalidSchedule& e) {
      spdlog::warn("event=maintenance_window_unreadable window_id={} error=\"{}\"", window.id, e.what());
      schedule.recurring.reset();
      schedule.start.reset();  // recurring and unreadable: never active on its own
      schedule.end.reset();
    }
  }
  return schedule;
}

ManualState manual_state_of(const store::MaintenanceWindowRecord& window) {
  return ManualState{time_of(window.activated_us), time_of(window.activated_until_us),
                     time_of(window.suppressed_until_us)};
}

Activity activity_of(const store::MaintenanceWindowRecord& window, Clock::time_point now) {
  return activity_at(schedule_of(window), manual_state_of(window), window.enabled, now);
}

Gate gate_for(pqxx::transaction_base& txn, Clock::time_point now, const std::optional<std::string>& job_id,
              const std::vector<std::string>& server_ids) {
  Gate gate;
  for (const auto& window : store::maintenance::covering(txn, job_id, server_ids)) {
    if (!activity_of(window, now).active) continue;
    const auto kind = window.autonomy_override == "approval" ? Gate::Kind::approval : Gate::Kind::skip;
    if (gate.kind == Gate::Kind::none || (kind == Gate::Kind::skip && gate.kind == Gate::Kind::approval)) {
      gate = Gate{kind, window.id, window.name};
    }
    if (gate.kind == Gate::Kind::skip) break;
  }
  return gate;
}

}  // namespace tether::maintenance
