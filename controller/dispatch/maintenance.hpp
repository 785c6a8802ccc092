#pragma once
// The controller's periodic upkeep, once a second: dispatch operations queued for agents that are
// connected here, fail operations whose deadline passed without an agent, and mark servers whose
// heartbeats stopped unreachable. Every step is a conditional UPDATE in PostgreSQL, so replicas
// running it together do each change once.
#include "controller/dispatch/dispatcher.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace tether::dispatch {

struct MaintenanceSettings {
  int unreachable_after_seconds = 30;
  int overdue_grace_seconds = 60;
  std::chrono::milliseconds period{1000};
};

class Maintenance : public std::enable_shared_from_this<Maintenance> {
 public:
  Maintenance(boost::asio::io_context& io, Dispatcher& dispatcher, MaintenanceSettings settings);
  void start();
  void stop();

 private:
  void schedule();
  void run_once();

  Dispatcher& dispatcher_;
  MaintenanceSettings settings_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace tether::dispatch
