#pragma once
// The scheduler: fires due jobs. Its truth is in PostgreSQL, never in memory: due jobs are
// claimed with FOR UPDATE SKIP LOCKED, their runs inserted and next_run_at advanced in the same
// transaction, so any number of controllers fire each due time exactly once. Time comes from the
// injected clock (fire_due is driven by tests on a ManualClock, without sleeping).
//
// Per claimed job: a due time missed by more than misfire_grace_seconds is a misfire (counted;
// catch_up_policy skip runs none of the missed times, run_once the latest, run_all each, at most
// 100); a one-time `at` job disables itself; each firing goes to the fan-out, where the fire limit
// and the overlap policy apply. A firing's transaction creates its run and targets; the run
// driver fans it out after the commit (tick.after.runs_to_advance).
#include "controller/automations/loop.hpp"
#include "controller/runs/fanout.hpp"

#include <chrono>
#include <functional>

namespace tether::scheduler {

inline constexpr int max_catch_up_firings = 100;

struct Tick {
  int claimed = 0;
  std::vector<std::string> runs;  // created by this tick (skipped firings included)
  runs::AfterCommit after;
  std::vector<double> lateness_seconds;  // of each firing: how long after its due time it fired
};

// Claims up to `limit` jobs due at the clock's now and fires them in the caller's transaction; the
// caller commits, then hands tick.after to the fan-out and its runs_to_advance to the run driver.
Tick fire_due(pqxx::transaction_base& txn, runs::Fanout& fanout, int limit);

struct SchedulerSettings {
  int batch = 25;  // jobs per transaction
  std::chrono::milliseconds longest_sleep{1000};  // jobs made on another controller are seen this soon
  int ticks_per_pass = 40;  // transactions of `batch` jobs in one pass while full batches are due
  // Told each committed firing's lateness (the metrics' histogram); may be empty.
  std::function<void(double seconds)> observe_lateness;
};

using AdvanceRuns = std::function<void(const std::vector<std::string>&)>;

// One pass of the `job-scheduler` loop (automations::LoopRunner runs it under the loop's advisory
// lock, on its cadence of longest_sleep): ticks of fire_due, each committed and its runs handed to
// the fan-out and the run driver, while full batches are due (at most ticks_per_pass); `more` when
// the last was full, else next_in = until the earliest due job.
automations::PassResult pass(pqxx::connection& connection, runs::Fanout& fanout, const AdvanceRuns& advance_runs,
                             const SchedulerSettings& settings);

}  // namespace tether::scheduler
