#include "controller/runs/run_driver.hpp"

#include "controller/store/run_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace tether::runs {

RunDriver::RunDriver(boost::asio::io_context& io, store::DbPool& db, Fanout& fanout,
                     std::chrono::milliseconds sweep_period)
    : db_(db), fanout_(fanout), sweep_period_(sweep_period), timer_(boost::asio::make_strand(io)) {}

void RunDriver::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->schedule_sweep(); });
}

void RunDriver::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void RunDriver::advance(const std::vector<std::string>& run_ids) {
  if (run_ids.empty()) return;
  {
    std::lock_guard lock(mutex_);
    dirty_.insert(run_ids.begin(), run_ids.end());
    if (draining_) return;  // the pass under way takes them next
    draining_ = true;
  }
  drain();
}

void RunDriver::drain() {
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        for (;;) {
          std::set<std::string> batch;
          {
            std::lock_guard lock(self->mutex_);
            if (self->dirty_.empty()) {
              self->draining_ = false;
              return;
            }
            batch.swap(self->dirty_);
          }
          for (const auto& run_id : batch) {
            try {
              pqxx::work txn(connection);
              auto after = self->fanout_.advance(txn, run_id);
              txn.commit();
              self->fanout_.after_commit(after);
              if (!after.runs_to_advance.empty()) {
                std::lock_guard lock(self->mutex_);
                self->dirty_.insert(after.runs_to_advance.begin(), after.runs_to_advance.end());
              }
            } catch (const pqxx::broken_connection&) {
              throw;  // the pool answers with on_failure; the sweep picks the runs up again
            } catch (const std::exception& e) {
              spdlog::warn("event=run_advance_failed run_id={} error=\"{}\"", run_id, e.what());
            }
          }
        }
      },
      [self](std::exception_ptr) {
        std::lock_guard lock(self->mutex_);
        self->draining_ = false;
      });
}

void RunDriver::schedule_sweep() {
  if (stopped_) return;
  timer_.expires_after(sweep_period_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->sweep();
  });
}

void RunDriver::sweep() {
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        pqxx::read_transaction txn(connection);
        auto ids = store::runs::needing_advance(txn, self->fanout_.clock().now(), 200);
        txn.commit();
        self->advance(ids);
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule_sweep(); });
      },
      [self](std::exception_ptr) {
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule_sweep(); });
      });
}

}  // namespace tether::runs
