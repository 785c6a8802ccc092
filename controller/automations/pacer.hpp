#pragma once
// When a background loop runs its next pass: it sleeps on its own strand, runs one pass on a
// database worker, then sleeps as long as the pass asks. woken, it runs at once, or right after
// the pass under way. A pass that throws is reported and the loop waits `retry` before the next.
// One pass at a time per loop; stop() ends the sleeping and no pass starts after it.
// Cadence (a loop of the catalog) and the event router pace their passes with it.
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace tether::automations {

class Pacer : public std::enable_shared_from_this<Pacer> {
 public:
  // On a database worker: one pass; returns how long to sleep before the next.
  using Pass = std::function<std::chrono::milliseconds(pqxx::connection&)>;
  // On a database worker: what a failed pass threw.
  using OnFailure = std::function<void(const std::string& error)>;

  Pacer(boost::asio::io_context& io, store::DbPool& db, Pass pass, OnFailure on_failure,
        std::chrono::milliseconds retry);
  void start(std::chrono::milliseconds first_in);
  void stop();
  // Any thread: run a pass now (if none is under way; else right after it).
  void wake();

 private:
  void sleep_for(std::chrono::milliseconds delay);
  void run_pass();
  void after_pass(std::chrono::milliseconds delay);

  store::DbPool& db_;
  Pass pass_;
  OnFailure on_failure_;
  std::chrono::milliseconds retry_;
  boost::asio::steady_timer timer_;
  bool in_flight_ = false;
  bool again_ = false;  // woken during a pass
  bool stopped_ = false;
};

}  // namespace tether::automations
