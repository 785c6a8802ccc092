// The loop runner's database side on a real PostgreSQL: the advisory lock keeps a second
// "replica" (another connection) from running the same loop while a pass runs, the pause flag is
// read from the table, the pass is recorded; and agent_sessions reconciliation.
#include "../store/store_fixture.hpp"

#include "controller/automations/catalog.hpp"
#include "controller/automations/loop_runner.hpp"
#include "controller/store/system_automation_locks.hpp"
#include "controller/store/system_automation_store.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether;
using namespace tether::automations;
using namespace std::chrono_literals;

namespace {

store::system_automations::Row row_of(pqxx::connection& connection, const std::string& key) {
  pqxx::read_transaction txn(connection);
  const auto rows = store::system_automations::load(txn, {key});
  REQUIRE(rows.size() == 1);
  return rows.front();
}

}  // namespace

TEST_CASE("while one replica runs a loop's pass, another cannot; a different loop still can", "[automations][store]") {
  testing::StoreFixture f;
  pqxx::connection other(f.database.url());
  ManualClock clock(std::chrono::system_clock::now());
  std::optional<RunResult> from_b, other_loop;
  LoopRunner b(*find_spec("retention-pruner"), [](const PassContext&) { return PassResult{}; }, clock, "replica-b");
  LoopRunner c(*find_spec("session-cleanup"), [](const PassContext&) { return PassResult{}; }, clock, "replica-b");
  LoopRunner a(*find_spec("retention-pruner"), [&](const PassContext& context) {
    CHECK(context.instance() == "replica-a");
    {
      // Any replica sees the pass under way.
      pqxx::read_transaction txn(other);
      CHECK(store::system_automations::locked_keys(txn, {"retention-pruner", "session-cleanup"}) ==
            std::set<std::string>{"retention-pruner"});
    }
    PgLoopBackend backend_b(other, "replica-b");
    from_b = b.run(backend_b, Trigger::manual);
    other_loop = c.run(backend_b, Trigger::cadence);
    clock.advance(250ms);
    return PassResult{{{"runsDeleted", 0}}, false, std::nullopt};
  }, clock, "replica-a");
  PgLoopBackend backend_a(f.connection, "replica-a");
  CHECK(a.run(backend_a, Trigger::cadence).outcome == Outcome::ran);
  REQUIRE(from_b);
  CHECK(from_b->outcome == Outcome::locked);
  REQUIRE(other_loop);
  CHECK(other_loop->outcome == Outcome::ran);

  {
    pqxx::read_transaction txn(other);
    CHECK(store::system_automations::locked_keys(txn, {"retention-pruner", "session-cleanup"}).empty());
  }
  const auto row = row_of(f.connection, "retention-pruner");
  CHECK(row.runs == 1);
  CHECK(row.last_duration_ms == 250);
  CHECK(row.last_instance == std::optional<std::string>("replica-a"));
  CHECK_FALSE(row.last_error);

  // The lock was given back: now b runs.
  PgLoopBackend backend_b(other, "replica-b");
  CHECK(b.run(backend_b, Trigger::manual).outcome == Outcome::ran);
  CHECK(row_of(f.connection, "retention-pruner").last_instance == std::optional<std::string>("replica-b"));
}

TEST_CASE("the pause flag in the table holds the loop on every replica; a failed pass is kept as the last error",
          "[automations][store]") {
  testing::StoreFixture f;
  ManualClock clock(std::chrono::system_clock::now());
  bool fail = false;
  LoopRunner runner(*find_spec("server-health"), [&](const PassContext&) -> PassResult {
    if (fail) throw std::runtime_error("no servers table today");
    return PassResult{{{"serversMarkedUnreachable", 0}}, false, std::nullopt};
  }, clock, "replica-a");
  {
    pqxx::work txn(f.connection);
    store::system_automations::set_paused(txn, "server-health", true, clock.now(), "api_key:test");
    txn.commit();
  }
  PgLoopBackend backend(f.connection, "replica-a");
  CHECK(runner.run(backend, Trigger::cadence).outcome == Outcome::paused);
  CHECK(row_of(f.connection, "server-health").runs == 0);
  CHECK(runner.run(backend, Trigger::manual).outcome == Outcome::ran);
  {
    pqxx::work txn(f.connection);
    store::system_automations::set_paused(txn, "server-health", false, clock.now(), "api_key:test");
    txn.commit();
  }
  fail = true;
  CHECK(runner.run(backend, Trigger::cadence).outcome == Outcome::failed);
  auto row = row_of(f.connection, "server-health");
  CHECK(row.last_error == std::optional<std::string>("no servers table today"));
  CHECK(row.failures == 1);
  CHECK(row.metrics_json.find("serversMarkedUnreachable") != std::string::npos);  // the last good figures stay
  fail = false;
  CHECK(runner.run(backend, Trigger::cadence).outcome == Outcome::ran);
  row = row_of(f.connection, "server-health");
  CHECK_FALSE(row.last_error);
  CHECK(row.runs == 3);
}

TEST_CASE("agent session reconciliation drops this instance's rows of sockets gone and claims the ones it holds",
          "[automations][store]") {
  testing::StoreFixture f;
  const auto add_server = [&](const std::string& name) {
    const auto id = ids::new_uuid();
    pqxx::work txn(f.connection);
    store::servers::insert(txn, id, name, {}, "tat_" + id.substr(0, 8), "hash");
    txn.commit();
    return id;
  };
  const auto held_missing = f.server_id;          // held here, no row
  const auto gone = add_server("gone");           // row of this instance, socket gone
  const auto just_connected = add_server("new");  // row of this instance, seconds old, not in the snapshot
  const auto taken = add_server("taken");         // held here, row names another instance
  const auto elsewhere = add_server("elsewhere");  // another instance's row and socket
  {
    pqxx::work txn(f.connection);
    txn.exec_params("INSERT INTO agent_sessions (server_id, controller_instance, connected_at) VALUES "
                    "($1, 'me', now() - interval '1 hour'), ($2, 'me', now()), ($3, 'other', now()), "
                    "($4, 'other', now() - interval '1 hour')",
                    gone, just_connected, taken, elsewhere);
    txn.commit();
  }
  pqxx::work txn(f.connection);
  const auto outcome = store::system_automations::reconcile_sessions(txn, "me", {held_missing, taken}, 5);
  CHECK(outcome.held == 2);
  CHECK(outcome.dropped == 1);
  CHECK(outcome.claimed == 2);
  std::map<std::string, std::string> rows;
  for (const auto& row : txn.exec("SELECT server_id::text, controller_instance FROM agent_sessions")) {
    rows[row[0].as<std::string>()] = row[1].as<std::string>();
  }
  CHECK(rows == std::map<std::string, std::string>{
                    {held_missing, "me"}, {just_connected, "me"}, {taken, "me"}, {elsewhere, "other"}});
  // Again: nothing to change.
  const auto again = store::system_automations::reconcile_sessions(txn, "me", {held_missing, taken}, 5);
  CHECK(again.dropped + again.claimed == 0);
}
