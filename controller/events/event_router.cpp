#include "controller/events/event_router.hpp"

#include "controller/events/event_fields.hpp"
#include "controller/events/trigger_firing.hpp"
#include "controller/store/trigger_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json.hpp>
#include <pqxx/subtransaction>
#include <spdlog/spdlog.h>

#include <set>

namespace tether::events {

Routed route_events(pqxx::dbtransaction& txn, runs::Fanout& fanout, int limit) {
  Routed routed;
  const auto events = store::events::claim(txn, limit);
  routed.events = static_cast<int>(events.size());
  if (events.empty()) return routed;
  std::set<std::string> types;
  for (const auto& event : events) types.insert(event.type);
  const auto triggers = store::triggers::listening(txn, {types.begin(), types.end()});
  std::vector<std::int64_t> ids;
  for (const auto& event : events) {
    ids.push_back(event.id);
    boost::system::error_code ec;
    auto fields = boost::json::parse(event.fields_json, ec);
    if (ec || !fields.is_object()) continue;
    fields.as_object()["type"] = event.type;
    for (const auto& trigger : triggers) {
      if (trigger.event != event.type || !filter_matches(trigger.filter, fields)) continue;
      Firing firing{fields, env_of_fields(fields.as_object()), event.id, event.chain_depth + 1,
                    "event:" + std::to_string(event.id) + ":" + trigger.id};
      // A firing that fails is logged and left out, inside its own savepoint: one bad trigger
      // must not keep every other event of the batch from being handled.
      std::optional<runs::Created> created;
      try {
        pqxx::subtransaction savepoint(txn, "fire_trigger");
        created = fire_trigger(savepoint, fanout, trigger, firing, runs::FanOut::by_driver);
        savepoint.commit();
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const std::exception& e) {
        spdlog::warn("event=trigger_fire_failed trigger_id={} event_id={} error=\"{}\"", trigger.id, event.id,
                     e.what());
        continue;
      }
      if (!created) continue;
      spdlog::info("event=trigger_fired trigger_id={} event_id={} event_type={} run_id={} status={}", trigger.id,
                   event.id, event.type, created->run.id, created->run.status);
      routed.runs.push_back(created->run.id);
      routed.after.merge(std::move(created->after));
    }
  }
  store::events::mark_processed(txn, ids, fanout.clock().now());
  return routed;
}

EventRouter::EventRouter(boost::asio::io_context& io, store::DbPool& db, runs::Fanout& fanout,
                         AdvanceRuns advance_runs, EventRouterSettings settings)
    : db_(db),
      fanout_(fanout),
      advance_runs_(std::move(advance_runs)),
      settings_(settings),
      timer_(boost::asio::make_strand(io)) {}

void EventRouter::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->sleep_for(self->settings_.poll); });
}

void EventRouter::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void EventRouter::wake() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    if (self->in_flight_) {
      self->again_ = true;
    } else {
      self->sleep_for(std::chrono::milliseconds(0));
    }
  });
}

void EventRouter::sleep_for(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->in_flight_) self->pass();
  });
}

void EventRouter::pass() {
  in_flight_ = true;
  again_ = false;
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        bool full = false;
        {
          pqxx::work txn(connection);
          auto routed = route_events(txn, self->fanout_, self->settings_.batch);
          txn.commit();
          full = routed.events >= self->settings_.batch;
          self->fanout_.after_commit(routed.after);
          if (self->advance_runs_ && !routed.after.runs_to_advance.empty()) {
            self->advance_runs_(routed.after.runs_to_advance);
          }
        }
        boost::asio::post(self->timer_.get_executor(), [self, full] {
          self->in_flight_ = false;
          self->sleep_for(full || self->again_ ? std::chrono::milliseconds(0) : self->settings_.poll);
        });
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=event_routing_failed error=\"{}\"", e.what());
        }
        boost::asio::post(self->timer_.get_executor(), [self] {
          self->in_flight_ = false;
          self->sleep_for(self->settings_.poll);
        });
      });
}

}  // namespace tether::events
