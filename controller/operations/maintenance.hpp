#pragma once
// The controller's periodic upkeep, once a second: the operation lifecycle's sweep (dispatch
// operations queued for agents connected here, end those whose deadline passed without an agent)
// and marking servers whose heartbeats stopped unreachable. Every step is a conditional UPDATE in
// PostgreSQL, so replicas
// running it together do each change once.
#include "controller/operations/lifecycle.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace tether::operations {

struct MaintenanceSettings {
  int unreachable_after_seconds = 30;
  int overdue_grace_seconds = 60;
  std::chrono::milliseconds period{1000};
};

class Maintenance : public std::enable_shared_from_this<Maintenance> {
 public:
  Maintenance(boost::asio::io_context& io, Lifecycle& lifecycle, MaintenanceSettings settings);
  void start();
  void stop();

 private:
  void schedule();
  void run_once();

  Lifecycle& lifecycle_;
  MaintenanceSettings settings_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace tether::operations
