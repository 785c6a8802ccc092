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

void RunDriver::mark_dirty(const std::string& run_id, const std::vector<std::string>* ended_operations) {
  auto [it, inserted] = dirty_.try_emplace(run_id);
  if (!ended_operations) {
    it->second.reset();  // every target
  } else if (inserted) {
    it->second = *ended_operations;
  } else if (it->second) {
    it->second->insert(it->second->end(), ended_operations->begin(), ended_operations->end());
  }
}

void RunDriver::advance(const std::vector<std::string>& run_ids) {
  if (run_ids.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : run_ids) mark_dirty(id, nullptr);
    if (draining_) return;  // the pass under way takes them next
    draining_ = true;
  }
  drain();
}

void RunDriver::ended(const std::map<std::string, std::vector<std::string>>& operations_by_run) {
  if (operations_by_run.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [run_id, operations] : operations_by_run) mark_dirty(run_id, &operations);
    if (draining_) return;
    draining_ = true;
  }
  drain();
}

void RunDriver::drain() {
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        for (;;) {
          std::map<std::string, std::optional<std::vector<std::string>>> batch;
          {
            std::lock_guard lock(self->mutex_);
            if (self->dirty_.empty()) {
              self->draining_ = false;
              return;
            }
            batch.swap(self->dirty_);
          }
          for (const auto& [run_id, ended] : batch) {
            try {
              pqxx::work txn(connection);
              auto after = self->fanout_.advance(txn, run_id, ended ? &*ended : nullptr);
              txn.commit();
              self->fanout_.after_commit(after);
              if (!after.runs_to_advance.empty()) {
                std::lock_guard lock(self->mutex_);
                for (const auto& id : after.runs_to_advance) self->mark_dirty(id, nullptr);
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

void RunDriver::expire_approvals(pqxx::connection& connection, std::vector<std::string>& runs_to_advance) {
  try {
    pqxx::work txn(connection);
    auto after = fanout_.expire_approvals(txn, 100);
    txn.commit();
    fanout_.after_commit(after);
    runs_to_advance.insert(runs_to_advance.end(), after.runs_to_advance.begin(), after.runs_to_advance.end());
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const std::exception& e) {
    spdlog::warn("event=approval_expiry_failed error=\"{}\"", e.what());
  }
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
        std::vector<std::string> ids;
        {
          pqxx::read_transaction txn(connection);
          ids = store::runs::needing_advance(txn, self->fanout_.clock().now(), 200);
          txn.commit();
        }
        self->expire_approvals(connection, ids);
        self->advance(ids);
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule_sweep(); });
      },
      [self](std::exception_ptr) {
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule_sweep(); });
      });
}

}  // namespace tether::runs
