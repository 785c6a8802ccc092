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
#include "controller/runs/fanout.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace tether::scheduler {

inline constexpr int max_catch_up_firings = 100;

struct Tick {
  int claimed = 0;
  std::vector<std::string> runs;  // created by this tick (skipped firings included)
  runs::AfterCommit after;
};

// Claims up to `limit` jobs due at the clock's now and fires them in the caller's transaction; the
// caller commits, then hands tick.after to the fan-out and its runs_to_advance to the run driver.
Tick fire_due(pqxx::transaction_base& txn, runs::Fanout& fanout, int limit);

struct SchedulerSettings {
  int batch = 25;  // jobs per transaction: small, so that a burst of due jobs is shared by parallel ticks
  std::chrono::milliseconds longest_sleep{1000};  // jobs made on another controller are seen this soon
  // Ticks at once while full batches are due: SKIP LOCKED gives each its own jobs.
  int parallel_ticks = 3;
};

class Scheduler : public std::enable_shared_from_this<Scheduler> {
 public:
  using AdvanceRuns = std::function<void(const std::vector<std::string>&)>;
  Scheduler(boost::asio::io_context& io, store::DbPool& db, runs::Fanout& fanout, AdvanceRuns advance_runs,
            SchedulerSettings settings = {});
  void start();
  void stop();
  // A job was created or changed here: look again now instead of at the next planned tick.
  void wake();

 private:
  void sleep_for(std::chrono::milliseconds delay);
  void tick();

  store::DbPool& db_;
  runs::Fanout& fanout_;
  AdvanceRuns advance_runs_;
  SchedulerSettings settings_;
  boost::asio::steady_timer timer_;
  int in_flight_ = 0;  // ticks under way (several while a backlog is worked off)
  bool stopped_ = false;
};

}  // namespace tether::scheduler
