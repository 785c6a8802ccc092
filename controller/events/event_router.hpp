#pragma once
// The event router: takes events from the outbox and fires the jobs of the triggers that match
// them. A pass claims unprocessed events FOR UPDATE SKIP LOCKED, fires each matching trigger's job
// (fire_id "event:<id>:<trigger>", unique per job) and marks the events processed, all in one
// transaction: each trigger fires exactly once per event, whichever controller takes it and
// however often controllers restart. A run fired by an event is one deeper in its chain than the
// event; the fan-out refuses a chain deeper than runs::max_chain_depth.
#include "controller/automations/pacer.hpp"
#include "controller/runs/fanout.hpp"
#include "controller/store/db_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tether::events {

struct Routed {
  int events = 0;                 // claimed and marked processed
  std::vector<std::string> runs;  // created (refused firings included)
  runs::AfterCommit after;
};

// One pass in the caller's transaction; the caller commits, then hands `after` to the fan-out.
Routed route_events(pqxx::dbtransaction& txn, runs::Fanout& fanout, int limit);

struct EventRouterSettings {
  int batch = 200;
  std::chrono::milliseconds poll{250};  // events written by another controller are seen this soon
};

// Routes events pass after pass, paced by an automations::Pacer: every `poll`, at once again after
// a full batch, and at once on wake().
class EventRouter {
 public:
  using AdvanceRuns = std::function<void(const std::vector<std::string>&)>;
  EventRouter(boost::asio::io_context& io, store::DbPool& db, runs::Fanout& fanout, AdvanceRuns advance_runs,
              EventRouterSettings settings = {});
  void start();
  void stop();
  // Any thread: something here may have written events; look now.
  void wake();

 private:
  std::shared_ptr<automations::Pacer> pacer_;
  EventRouterSettings settings_;
};

}  // namespace tether::events
