#include "controller/scheduler/scheduler.hpp"

#include "controller/services/job_service.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/sql_text.hpp"

#include <spdlog/spdlog.h>

namespace tether::scheduler {
namespace {

std::string fire_id_of(Clock::time_point due) { return "schedule:" + std::to_string(store::epoch_micros(due)); }

// Fires one claimed job; returns the scheduler state to record.
store::jobs::Firing fire_job(pqxx::transaction_base& txn, runs::Fanout& fanout, const store::JobRecord& job,
                             Tick& tick) {
  const auto now = fanout.clock().now();
  store::jobs::Firing firing;
  firing.now_us = store::epoch_micros(now);
  const auto due = store::from_epoch_micros(*job.next_run_us);
  std::vector<Clock::time_point> firings;
  std::optional<Clock::time_point> next;
  try {
    next = services::next_due_of(job, due);
  } catch (const std::exception& e) {
    // A schedule that no longer parses (a zone removed from the system): stop, say why.
    spdlog::error("event=job_schedule_invalid job_id={} error=\"{}\"", job.id, e.what());
    firing.enabled = false;
    return firing;
  }
  if (now - due <= std::chrono::seconds(job.misfire_grace_seconds)) {
    firings.push_back(due);
  } else {
    std::vector<Clock::time_point> missed{due};
    while (next && *next <= now) {
      missed.push_back(*next);
      if (missed.size() > 1000000) break;  // bounded, whatever the schedule
      next = services::next_due_of(job, *next);
    }
    while (next && *next <= now) next = services::next_due_of(job, now);
    firing.misfires = static_cast<int>(missed.size());
    firing.last_scheduled_us = store::epoch_micros(missed.back());
    if (job.catch_up_policy == "run_once") {
      firings.push_back(missed.back());
    } else if (job.catch_up_policy == "run_all") {
      const auto from = missed.size() > max_catch_up_firings ? missed.end() - max_catch_up_firings : missed.begin();
      firings.assign(from, missed.end());
    }
    spdlog::warn("event=job_misfired job_id={} missed={} catch_up_policy={} firing={}", job.id, missed.size(),
                 job.catch_up_policy, firings.size());
  }
  for (const auto& scheduled_at : firings) {
    auto created =
        fanout.fire_job(txn, job, scheduled_at, fire_id_of(scheduled_at), "job:" + job.id, runs::FanOut::by_driver);
    tick.runs.push_back(created.run.id);
    tick.lateness_seconds.push_back(std::chrono::duration<double>(now - scheduled_at).count());
    tick.after.merge(std::move(created.after));
    firing.last_run_us = firing.now_us;
    firing.last_scheduled_us = store::epoch_micros(scheduled_at);
    firing.last_fire_id = fire_id_of(scheduled_at);
  }
  if (job.schedule_mode == std::optional<std::string>("at")) {
    next.reset();
    firing.enabled = false;  // a one-time job has done its work
  }
  firing.next_run_us = next ? std::optional<std::int64_t>(store::epoch_micros(*next)) : std::nullopt;
  return firing;
}

}  // namespace

Tick fire_due(pqxx::transaction_base& txn, runs::Fanout& fanout, int limit) {
  Tick tick;
  const auto due = store::jobs::claim_due(txn, fanout.clock().now(), limit);
  tick.claimed = static_cast<int>(due.size());
  for (const auto& job : due) {
    store::jobs::record_firing(txn, job.id, fire_job(txn, fanout, job, tick));
  }
  return tick;
}

automations::PassResult pass(pqxx::connection& connection, runs::Fanout& fanout, const AdvanceRuns& advance_runs,
                             const SchedulerSettings& settings) {
  int claimed = 0, ticks = 0;
  std::size_t runs = 0;
  bool full = false;
  std::optional<std::int64_t> earliest;
  // While full batches are due, tick on within the pass (each tick its own transaction, its runs
  // handed on at once): the lock is taken and the pass recorded once for the whole backlog.
  do {
    Tick tick;
    {
      pqxx::work txn(connection);
      tick = fire_due(txn, fanout, settings.batch);
      earliest = store::jobs::earliest_due_us(txn);
      txn.commit();
    }
    fanout.after_commit(tick.after);
    if (settings.observe_lateness) {
      for (const auto seconds : tick.lateness_seconds) settings.observe_lateness(seconds);
    }
    if (advance_runs) advance_runs(tick.after.runs_to_advance);
    claimed += tick.claimed;
    runs += tick.runs.size();
    full = tick.claimed >= settings.batch;
  } while (full && ++ticks < settings.ticks_per_pass);
  automations::PassResult result;
  result.metrics = {{"jobsClaimed", claimed}, {"runsCreated", runs}};
  result.more = full;
  if (earliest) {
    const auto until = store::from_epoch_micros(*earliest) - fanout.clock().now();
    result.next_in = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until) + std::chrono::milliseconds(1),
                                std::chrono::milliseconds(0), settings.longest_sleep);
  }
  return result;
}

}  // namespace tether::scheduler
