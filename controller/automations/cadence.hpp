#pragma once
// Runs a loop's passes on its cadence: every `period`, at once again after a pass that did a full
// batch, sooner when the pass asks (next_in), and at once on wake(). Each pass goes through the
// loop's LoopRunner on a database worker; a pass skipped (paused, running, locked by a replica)
// waits for the next period.
#include "controller/automations/loop_runner.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace tether::automations {

class Cadence : public std::enable_shared_from_this<Cadence> {
 public:
  Cadence(boost::asio::io_context& io, store::DbPool& db, std::shared_ptr<LoopRunner> runner,
          std::chrono::milliseconds period, std::chrono::milliseconds first_in);
  void start();
  void stop();
  // Any thread: run a pass now (if none is under way here).
  void wake();

 private:
  void sleep_for(std::chrono::milliseconds delay);
  void pass();

  store::DbPool& db_;
  std::shared_ptr<LoopRunner> runner_;
  std::chrono::milliseconds period_, first_in_;
  boost::asio::steady_timer timer_;
  bool in_flight_ = false;
  bool again_ = false;
  bool stopped_ = false;
};

}  // namespace tether::automations
