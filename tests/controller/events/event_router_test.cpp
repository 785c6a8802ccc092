// The event outbox and the event router against a real PostgreSQL, on an injected clock: events are
// written by the change they report, only while a trigger listens; each matching trigger fires
// once per event, also when two routers claim at the same moment; filters, the trigger's fire
// limit and the chain-depth guard apply; the event's fields reach the run as environment values.
#include "../automation_fixture.hpp"

#include "controller/events/event_router.hpp"
#include "controller/services/trigger_service.hpp"
#include "controller/store/trigger_store.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

namespace {

using testing::t0;

struct EventFixture : testing::AutomationFixture {
  services::Triggers triggers{clock, secrets};

  // A manual job (no schedule) running `command` on the fixture's server.
  store::JobRecord manual_job(const std::string& name, const std::string& command = "true") {
    services::JobSpec spec;
    spec.name = name;
    spec.run.operation.type = "exec";
    spec.run.operation.command = command;
    spec.run.targets.server_ids = {fx.server_id};
    spec.overlap_policy = "allow";
    return create(spec);
  }

  store::TriggerRecord trigger(const std::string& job_id, const std::string& event,
                               std::map<std::string, std::string> filter = {},
                               std::optional<int> fire_limit_max = std::nullopt) {
    services::TriggerSpec spec;
    spec.name = "on " + event;
    spec.job_id = job_id;
    spec.event = event;
    spec.filter = std::move(filter);
    spec.fire_limit_max = fire_limit_max;
    if (fire_limit_max) spec.fire_limit_window = "1h";
    pqxx::work txn(fx.connection);
    auto created = triggers.create(txn, actor, spec, "127.0.0.1");
    txn.commit();
    return created.trigger;
  }

  // A manual firing of the job, fanned out (its operations created).
  store::RunRecord fire(const store::JobRecord& job) {
    pqxx::work txn(fx.connection);
    auto created = fanout.fire_job(txn, job, clock.now(), std::nullopt, "api_key:test");
    txn.commit();
    return created.run;
  }

  events::Routed route(pqxx::connection& connection) {
    pqxx::work txn(connection);
    auto routed = events::route_events(txn, fanout, 100);
    txn.commit();
    for (const auto& run_id : routed.after.runs_to_advance) advance(run_id);
    return routed;
  }
  events::Routed route() { return route(fx.connection); }

  int count(const std::string& sql) {
    pqxx::read_transaction txn(fx.connection);
    return txn.exec1(sql)[0].as<int>();
  }

  std::map<std::string, std::string> event_env_of(const store::RunRecord& run) {
    std::map<std::string, std::string> env;
    if (!run.event_env_json) return env;
    const auto parsed = boost::json::parse(*run.event_env_json);
    for (const auto& [name, value] : parsed.as_object()) {
      env[std::string(name)] = std::string(value.as_string());
    }
    return env;
  }
};

}  // namespace

TEST_CASE("no event is recorded while no trigger listens for its type", "[events]") {
  EventFixture s;
  const auto job = s.manual_job("work");
  s.end_operations(s.fire(job).id, 0);
  CHECK(s.count("SELECT count(*) FROM events") == 0);
}

TEST_CASE("an operation's end fires each matching trigger's job once, with the event's fields as env", "[events]") {
  EventFixture s;
  const auto watched = s.manual_job("watched");
  const auto follow_up = s.manual_job("follow-up");
  const auto trigger = s.trigger(follow_up.id, "operation.completed", {{"job_id", watched.id}});
  s.end_operations(s.fire(watched).id, 0);
  REQUIRE(s.count("SELECT count(*) FROM events WHERE type = 'operation.completed' AND processed_at IS NULL") == 1);

  const auto routed = s.route();
  CHECK(routed.events >= 1);
  REQUIRE(routed.runs.size() == 1);
  const auto run = s.run(routed.runs[0]);
  CHECK(run.job_id == follow_up.id);
  CHECK(run.trigger_id == trigger.id);
  CHECK(run.status == "running");
  CHECK(run.chain_depth == 1);
  REQUIRE(run.event_id);
  CHECK(run.fire_id == "event:" + std::to_string(*run.event_id) + ":" + trigger.id);
  const auto env = s.event_env_of(run);
  CHECK(env.at("TETHER_EVENT_TYPE") == "operation.completed");
  CHECK(env.at("TETHER_EVENT_JOB_ID") == watched.id);
  CHECK(env.at("TETHER_EVENT_EXIT_CODE") == "0");
  CHECK(env.at("TETHER_EVENT_SERVER_TAG") == "prod");
  CHECK(env.at("TETHER_TRIGGER_ID") == trigger.id);
  CHECK(env.at("TETHER_EVENT_ID") == std::to_string(*run.event_id));
  CHECK(s.operations_of(run.id).size() == 1);  // fanned out

  // Handled: a second pass, or a restarted controller, finds nothing to fire.
  CHECK(s.route().runs.empty());
  CHECK(s.runs_of(follow_up.id).size() == 1);
}

TEST_CASE("two routers claiming the same events at once fire each trigger once", "[events]") {
  EventFixture s;
  const auto watched = s.manual_job("watched");
  const auto follow_up = s.manual_job("follow-up");
  s.trigger(follow_up.id, "operation.completed");
  s.end_operations(s.fire(watched).id, 0);

  pqxx::connection other(s.fx.database.url());
  pqxx::work first(s.fx.connection);
  const auto by_first = events::route_events(first, s.fanout, 100);
  {
    pqxx::work second(other);  // runs while the first holds its claim: skips the locked events
    const auto by_second = events::route_events(second, s.fanout, 100);
    CHECK(by_second.events == 0);
    second.commit();
  }
  first.commit();
  CHECK(by_first.runs.size() == 1);
  CHECK(s.route(other).runs.empty());  // once committed, processed for everyone
  CHECK(s.runs_of(follow_up.id).size() == 1);
}

TEST_CASE("a trigger's filter decides which events fire it", "[events]") {
  EventFixture s;
  const auto watched = s.manual_job("watched", "false");
  const auto on_failure = s.manual_job("on-failure");
  const auto on_exit_3 = s.manual_job("on-exit-3");
  const auto other_tag = s.manual_job("other-tag");
  s.trigger(on_failure.id, "operation.completed", {{"exit_code", "1"}, {"server_tag", "prod"}});
  s.trigger(on_exit_3.id, "operation.completed", {{"exit_code", "3"}});
  s.trigger(other_tag.id, "operation.completed", {{"server_tag", "staging"}});
  s.end_operations(s.fire(watched).id, 1);
  s.route();
  CHECK(s.runs_of(on_failure.id).size() == 1);
  CHECK(s.runs_of(on_exit_3.id).empty());
  CHECK(s.runs_of(other_tag.id).empty());
}

TEST_CASE("a trigger firing on its own job's runs stops at the chain-depth limit", "[events]") {
  EventFixture s;
  const auto loop = s.manual_job("loop");
  s.trigger(loop.id, "run.completed", {{"job_id", loop.id}});
  auto run = s.fire(loop);
  CHECK(run.chain_depth == 0);
  std::vector<store::RunRecord> fired;
  for (int round = 0; round < runs::max_chain_depth + 3; ++round) {
    s.end_operations(run.id, 0);  // the run completes: a run.completed event
    REQUIRE(s.run(run.id).status == "completed");
    const auto routed = s.route();
    if (routed.runs.empty()) break;
    REQUIRE(routed.runs.size() == 1);
    run = s.run(routed.runs[0]);
    fired.push_back(run);
    if (run.skipped) break;
  }
  REQUIRE(fired.size() == static_cast<std::size_t>(runs::max_chain_depth + 1));
  for (int i = 0; i < runs::max_chain_depth; ++i) {
    CHECK(fired[i].chain_depth == i + 1);
    CHECK_FALSE(fired[i].skipped);
  }
  const auto& refused = fired.back();
  CHECK(refused.skipped);
  CHECK(refused.status == "canceled");
  CHECK(refused.error.value_or("").find("chain") != std::string::npos);
  CHECK(s.route().runs.empty());  // a refused run ends no chain further: nothing is left to fire
}

TEST_CASE("a trigger's fire limit drops firings beyond it, recorded with the reason", "[events]") {
  EventFixture s;
  const auto watched = s.manual_job("watched");
  const auto follow_up = s.manual_job("follow-up");
  s.trigger(follow_up.id, "operation.completed", {}, 2);
  for (int i = 0; i < 3; ++i) {
    s.end_operations(s.fire(watched).id, 0);
    s.clock.set(s.clock.now() + 1s);
  }
  s.route();
  // The three firings share one due time: which one is dropped is the order of the events.
  const auto runs = s.runs_of(follow_up.id);
  REQUIRE(runs.size() == 3);
  std::vector<store::RunRecord> dropped;
  for (const auto& run : runs) {
    if (run.skipped) dropped.push_back(run);
  }
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].event_id == std::max({*runs[0].event_id, *runs[1].event_id, *runs[2].event_id}));
  CHECK(dropped[0].error.value_or("").find("fire limit") != std::string::npos);
}

TEST_CASE("a new server and its status changes are events with its tags", "[events]") {
  EventFixture s;
  const auto on_registered = s.manual_job("on-registered");
  const auto on_unreachable = s.manual_job("on-unreachable");
  s.trigger(on_registered.id, "server.registered", {{"server_tag", "edge"}});
  s.trigger(on_unreachable.id, "server.unreachable");
  const auto id = ids::new_uuid();
  {
    pqxx::work txn(s.fx.connection);
    store::servers::insert(txn, id, "edge-1", {"edge", "eu"}, "tat_edge0001", "hash");
    txn.exec_params("UPDATE servers SET status = 'unreachable' WHERE id = $1", id);
    txn.commit();
  }
  s.route();
  const auto registered = s.runs_of(on_registered.id);
  REQUIRE(registered.size() == 1);
  CHECK(s.event_env_of(registered[0]).at("TETHER_EVENT_SERVER_NAME") == "edge-1");
  CHECK(s.event_env_of(registered[0]).at("TETHER_EVENT_SERVER_TAG") == "edge,eu");
  CHECK(s.runs_of(on_unreachable.id).size() == 1);
}

TEST_CASE("a disabled trigger records no events and fires nothing", "[events]") {
  EventFixture s;
  const auto watched = s.manual_job("watched");
  const auto follow_up = s.manual_job("follow-up");
  auto trigger = s.trigger(follow_up.id, "operation.completed");
  {
    pqxx::work txn(s.fx.connection);
    txn.exec_params("UPDATE triggers SET enabled = false WHERE id = $1", trigger.id);
    txn.commit();
  }
  s.end_operations(s.fire(watched).id, 0);
  CHECK(s.count("SELECT count(*) FROM events") == 0);
  CHECK(s.route().runs.empty());
}

TEST_CASE("a trigger whose firing fails is left out without holding back the other triggers or events", "[events]") {
  EventFixture s;
  const auto watched = s.manual_job("watched");
  const auto broken = s.manual_job("broken");
  const auto healthy = s.manual_job("healthy");
  const auto bad = s.trigger(broken.id, "operation.completed");
  s.trigger(healthy.id, "operation.completed");
  {
    // Stored data the fan-out cannot use: the firing throws.
    pqxx::work txn(s.fx.connection);
    txn.exec_params("UPDATE triggers SET fire_limit_max = 1, fire_limit_window = 'soon' WHERE id = $1", bad.id);
    txn.commit();
  }
  s.end_operations(s.fire(watched).id, 0);
  const auto routed = s.route();
  CHECK(routed.events == 1);
  CHECK(s.runs_of(broken.id).empty());
  CHECK(s.runs_of(healthy.id).size() == 1);
  CHECK(s.count("SELECT count(*) FROM events WHERE processed_at IS NULL") == 0);
}

TEST_CASE("an operation that belongs to no run (a v1 call's) ends and its event fires the trigger", "[events]") {
  EventFixture s;
  const auto follow_up = s.manual_job("follow-up");
  s.trigger(follow_up.id, "operation.failed", {{"operation_type", "exec"}});
  const auto operation = s.fx.new_operation("running");
  {
    pqxx::work txn(s.fx.connection);
    txn.exec_params("UPDATE operations SET status = 'failed', error = 'lost' WHERE id = $1", operation);
    txn.commit();
  }
  s.route();
  const auto runs = s.runs_of(follow_up.id);
  REQUIRE(runs.size() == 1);
  const auto env = s.event_env_of(runs[0]);
  CHECK(env.at("TETHER_EVENT_OPERATION_ID") == operation);
  CHECK(env.at("TETHER_EVENT_CI_RUN_ID") == "run-1");
  CHECK(env.at("TETHER_EVENT_ERROR") == "lost");
  CHECK(env.count("TETHER_EVENT_JOB_ID") == 0);  // no run, no job
  CHECK(runs[0].chain_depth == 1);
}
