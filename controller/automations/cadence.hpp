#pragma once
// Runs a loop's passes on its cadence: every `period`, at once again after a pass that did a full
// batch, sooner when the pass asks (next_in), and at once on wake(). Each pass goes through the
// loop's LoopRunner on a database worker; a pass skipped (paused, running, locked by a replica)
// waits for the next period. The timing is a Pacer's.
#include "controller/automations/loop_runner.hpp"
#include "controller/automations/pacer.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>

namespace tether::automations {

class Cadence {
 public:
  Cadence(boost::asio::io_context& io, store::DbPool& db, std::shared_ptr<LoopRunner> runner,
          std::chrono::milliseconds period, std::chrono::milliseconds first_in);
  void start();
  void stop();
  // Any thread: run a pass now (if none is under way here).
  void wake();

 private:
  std::shared_ptr<Pacer> pacer_;
  std::chrono::milliseconds first_in_;
};

}  // namespace tether::automations
