// What an agent reports reaches only its own server's operations (issue 8, point 1): every
// agent-facing statement of the operation store is scoped by server id, and naming another
// server's operation raises ForeignOperation with nothing changed.
#include "store_fixture.hpp"

#include "controller/store/application_store.hpp"

#include <catch2/catch.hpp>

using namespace tether;
namespace ops = store::operations;

namespace {

const ops::OutputLimits roomy{1 << 20};

// A second server in the fixture's database: the one whose token a forging agent holds.
std::string add_server(testing::StoreFixture& fx) {
  const auto id = ids::new_uuid();
  pqxx::work txn(fx.connection);
  store::servers::insert(txn, id, "other-" + id.substr(0, 8), {}, "tat_" + id.substr(0, 8), "hash-" + id);
  txn.commit();
  return id;
}

// Runs `report` as `server_id` in its own transaction; returns whether it raised ForeignOperation
// naming `operation_id`. The transaction is never committed, as the agent link rolls it back.
template <class Report>
bool refused_as_foreign(testing::StoreFixture& fx, const std::string& operation_id, Report report) {
  pqxx::work txn(fx.connection);
  try {
    report(txn);
  } catch (const ops::ForeignOperation& refusal) {
    return refusal.operation_id == operation_id && refusal.owner_server_id == fx.server_id;
  }
  return false;
}

}  // namespace

TEST_CASE("every report on another server's operation is refused as foreign", "[store][trust]") {
  testing::StoreFixture fx;
  const auto intruder = add_server(fx);
  const auto id = fx.new_operation("dispatched");

  CHECK(refused_as_foreign(fx, id, [&](auto& txn) { ops::append_output(txn, intruder, id, {{1, 1, "forged"}}, roomy); }));
  CHECK(refused_as_foreign(fx, id, [&](auto& txn) { ops::mark_running(txn, intruder, id, false); }));
  CHECK(refused_as_foreign(fx, id, [&](auto& txn) { ops::mark_running(txn, intruder, id, true); }));
  CHECK(refused_as_foreign(fx, id, [&](auto& txn) { ops::fail(txn, intruder, id, "forged rejection"); }));
  CHECK(refused_as_foreign(fx, id, [&](auto& txn) {
    ops::finish(txn, intruder, id, {"completed", 0, 1, std::nullopt}, 0);
  }));
  CHECK(refused_as_foreign(fx, id, [&](auto& txn) { ops::progress_on_server(txn, intruder, {id}); }));

  pqxx::work txn(fx.connection);
  const auto record = ops::find(txn, id, true);
  CHECK(record->status == "dispatched");
  CHECK(record->output_seq == 0);
  CHECK(record->stdout_data.empty());
  CHECK_FALSE(record->exit_code);
}

TEST_CASE("a hello is told only about its own server's operations", "[store][trust]") {
  testing::StoreFixture fx;
  const auto own = fx.new_operation("dispatched");
  const auto unknown = ids::new_uuid();
  pqxx::work txn(fx.connection);
  const auto progress = ops::progress_on_server(txn, fx.server_id, {own, unknown});
  REQUIRE(progress.size() == 1);
  CHECK(progress[0].operation_id == own);
}

TEST_CASE("an agent's own reports still work and unknown ids are no error", "[store][trust]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation("dispatched");
  pqxx::work txn(fx.connection);
  CHECK(ops::mark_running(txn, fx.server_id, id, true));
  CHECK(ops::append_output(txn, fx.server_id, id, {{1, 1, "real"}}, roomy)->seq == 1);
  CHECK(ops::finish(txn, fx.server_id, id, {"completed", 3, 1, std::nullopt}, 1));
  CHECK(ops::find(txn, id, true)->stdout_data == "real");
  CHECK_FALSE(ops::append_output(txn, fx.server_id, ids::new_uuid(), {{1, 1, "x"}}, roomy));
  CHECK_FALSE(ops::mark_running(txn, fx.server_id, ids::new_uuid(), true));
}

TEST_CASE("a queued operation, never sent to any agent, takes no reports", "[store][trust]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation("queued");
  pqxx::work txn(fx.connection);
  CHECK_FALSE(ops::mark_running(txn, fx.server_id, id, true));
  CHECK_FALSE(ops::append_output(txn, fx.server_id, id, {{1, 1, "early"}}, roomy));
  CHECK_FALSE(ops::finish(txn, fx.server_id, id, {"completed", 0, 1, std::nullopt}, 0));
  CHECK(ops::find(txn, id, false)->status == "queued");
}
