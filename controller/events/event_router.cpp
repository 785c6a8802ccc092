#include "controller/events/event_router.hpp"

#include "controller/events/event_fields.hpp"
#include "controller/events/trigger_firing.hpp"
#include "controller/store/trigger_store.hpp"

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
    : settings_(settings) {
  auto pass = [&fanout, advance_runs = std::move(advance_runs), settings](pqxx::connection& connection) {
    pqxx::work txn(connection);
    auto routed = route_events(txn, fanout, settings.batch);
    txn.commit();
    fanout.after_commit(routed.after);
    if (advance_runs && !routed.after.runs_to_advance.empty()) advance_runs(routed.after.runs_to_advance);
    return routed.events >= settings.batch ? std::chrono::milliseconds(0) : settings.poll;
  };
  auto on_failure = [](const std::string& error) {
    spdlog::warn("event=event_routing_failed error=\"{}\"", error);
  };
  pacer_ = std::make_shared<automations::Pacer>(io, db, std::move(pass), std::move(on_failure), settings.poll);
}

void EventRouter::start() { pacer_->start(settings_.poll); }
void EventRouter::stop() { pacer_->stop(); }
void EventRouter::wake() { pacer_->wake(); }

}  // namespace tether::events
