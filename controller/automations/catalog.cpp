#include "controller/automations/catalog.hpp"

namespace tether::automations {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

LoopSpec scheduled(std::string key, std::string name, std::string description, std::string domain,
                   std::string cadence_label, milliseconds period, milliseconds first_in) {
  return {std::move(key), std::move(name), std::move(description), std::move(domain), std::move(cadence_label),
          true, true, true, period, first_in};
}

}  // namespace

const std::vector<LoopSpec>& catalog() {
  static const std::vector<LoopSpec> loops = {
      scheduled("job-scheduler", "Job Scheduler",
                "Claims due jobs (FOR UPDATE SKIP LOCKED), creates their runs and advances their schedules; "
                "counts misfires and applies catch-up, overlap and fire limits.",
                "jobs", "Every 1s", seconds(1), milliseconds(0)),
      scheduled("operation-reaper", "Operation Reaper",
                "Ends operations whose deadline passed without an agent (queued too long, lost dispatches, "
                "overdue reboots) and sends operations queued for agents connected here.",
                "operations", "Every 1s", seconds(1), seconds(1)),
      scheduled("server-health", "Server Health",
                "Marks servers whose agent heartbeats stopped unreachable.", "servers", "Every 1s", seconds(1),
                seconds(1)),
      scheduled("session-cleanup", "Session Cleanup", "Deletes expired login sessions.", "users", "Every 5m",
                minutes(5), minutes(5)),
      scheduled("webhook-replay-pruner", "Webhook Replay Pruner",
                "Forgets accepted webhook delivery ids past their replay window and events processed a day ago.",
                "webhooks", "Every 10m", minutes(10), minutes(1)),
      scheduled("retention-pruner", "Retention Pruner",
                "Deletes finished operations' output, finished operations and runs, and audit entries older than "
                "their retention ages, in short batches.",
                "retention", "Every 1h", minutes(60), minutes(1)),
      LoopSpec{"agent-session-reconciliation", "Agent Session Reconciliation",
               "Reconciles this controller's agent_sessions rows with the agent sockets it really holds: drops "
               "rows of sockets gone, claims rows of sockets held. Manual-only: it cannot be paused or resumed.",
               "agents", "Manual maintenance", false, false, true, milliseconds(0), milliseconds(0)},
  };
  return loops;
}

const LoopSpec* find_spec(const std::string& key) {
  for (const auto& spec : catalog()) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

}  // namespace tether::automations
