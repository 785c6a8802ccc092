#pragma once
// Keeps runs moving: when operations of a run end (the lifecycle says which runs they belong to),
// the run is advanced on a database worker; advances asked for while one is under way are gathered
// into the next pass, so that a run of 10,000 targets ending together costs a few passes, not
// 10,000. A sweep once a second advances what no notice reached this process for: operations
// ended on another controller, retries that fell due, runs queued behind one that ended; and it
// expires the approval requests whose time is up (their runs end canceled).
#include "controller/runs/fanout.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tether::runs {

class RunDriver : public std::enable_shared_from_this<RunDriver> {
 public:
  RunDriver(boost::asio::io_context& io, store::DbPool& db, Fanout& fanout,
            std::chrono::milliseconds sweep_period = std::chrono::seconds(1));
  void start();
  void stop();
  // Any thread. Advances the runs (their started targets all looked at).
  void advance(const std::vector<std::string>& run_ids);
  // Any thread. These operations of these runs ended: only their targets need settling.
  void ended(const std::map<std::string, std::vector<std::string>>& operations_by_run);

 private:
  void drain();
  void mark_dirty(const std::string& run_id, const std::vector<std::string>* ended_operations);
  void schedule_sweep();
  void sweep();
  // Expired approval requests end, their runs canceled; runs that may move on are added.
  void expire_approvals(pqxx::connection& connection, std::vector<std::string>& runs_to_advance);

  store::DbPool& db_;
  Fanout& fanout_;
  std::chrono::milliseconds sweep_period_;
  boost::asio::steady_timer timer_;
  std::mutex mutex_;
  // Runs to advance: with the ended operations to settle, or nullopt to look at every target.
  std::map<std::string, std::optional<std::vector<std::string>>> dirty_;
  bool draining_ = false;
  bool stopped_ = false;
};

}  // namespace tether::runs
