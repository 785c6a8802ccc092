#include "controller/scheduler/scheduler.hpp"

#include "controller/services/job_service.hpp"
#include "controller/store/job_store.hpp"
#include "controller/store/sql_text.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
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

Scheduler::Scheduler(boost::asio::io_context& io, store::DbPool& db, runs::Fanout& fanout, AdvanceRuns advance_runs,
                     SchedulerSettings settings)
    : db_(db),
      fanout_(fanout),
      advance_runs_(std::move(advance_runs)),
      settings_(settings),
      timer_(boost::asio::make_strand(io)) {}

void Scheduler::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->sleep_for(std::chrono::milliseconds(0)); });
}

void Scheduler::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void Scheduler::wake() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    if (self->in_flight_ == 0) self->sleep_for(std::chrono::milliseconds(0));
  });
}

void Scheduler::sleep_for(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);  // cancels the planned wait, if any
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && self->in_flight_ == 0) self->tick();
  });
}

void Scheduler::tick() {
  ++in_flight_;
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        Tick tick;
        std::optional<std::int64_t> earliest;
        {
          pqxx::work txn(connection);
          tick = fire_due(txn, self->fanout_, self->settings_.batch);
          earliest = store::jobs::earliest_due_us(txn);
          txn.commit();
        }
        self->fanout_.after_commit(tick.after);
        if (self->advance_runs_) self->advance_runs_(tick.after.runs_to_advance);
        auto delay = self->settings_.longest_sleep;
        if (tick.claimed >= self->settings_.batch) {
          delay = std::chrono::milliseconds(0);  // more are due
        } else if (earliest) {
          const auto until = store::from_epoch_micros(*earliest) - self->fanout_.clock().now();
          delay = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until) + std::chrono::milliseconds(1),
                             std::chrono::milliseconds(0), self->settings_.longest_sleep);
        }
        const bool backlog = tick.claimed >= self->settings_.batch;
        boost::asio::post(self->timer_.get_executor(), [self, delay, backlog] {
          --self->in_flight_;
          if (self->stopped_) return;
          if (backlog) {
            while (self->in_flight_ < self->settings_.parallel_ticks) self->tick();
          } else if (self->in_flight_ == 0) {
            self->sleep_for(delay);
          }
        });
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=scheduler_tick_failed error=\"{}\"", e.what());
        }
        boost::asio::post(self->timer_.get_executor(), [self] {
          if (--self->in_flight_ == 0) self->sleep_for(self->settings_.longest_sleep);
        });
      });
}

}  // namespace tether::scheduler
