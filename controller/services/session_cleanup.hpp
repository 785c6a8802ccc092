#pragma once
// Deletes expired login sessions every `period` (seed 004: every 5 minutes). An expired session
// is refused at once whether or not it has been deleted; this only keeps the table small. The
// DELETE is idempotent, so replicas running it together need no coordination.
#include "controller/services/user_service.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace tether::services {

class SessionCleanup : public std::enable_shared_from_this<SessionCleanup> {
 public:
  SessionCleanup(boost::asio::io_context& io, store::DbPool& db, Users& users,
                 std::chrono::milliseconds period = std::chrono::minutes(5));
  void start();
  void stop();

 private:
  void schedule();
  void run_once();

  store::DbPool& db_;
  Users& users_;
  std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace tether::services
