#include "store_fixture.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using store::OutputChunk;

namespace {
const store::operations::OutputLimits roomy{1 << 20};
}

TEST_CASE("output chunks are stored in sequence and resends are dropped", "[store][output]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  CHECK(store::operations::append_output(txn, fx.server_id, id, {{1, 1, "a"}, {2, 2, "E"}, {3, 1, "b"}}, roomy)->seq == 3);
  // A reconnect resends 2..4: only 4 is new.
  const auto appended = store::operations::append_output(txn, fx.server_id, id, {{2, 2, "E"}, {3, 1, "b"}, {4, 1, "c"}}, roomy);
  CHECK(appended->previous_seq == 3);
  CHECK(appended->seq == 4);
  const auto record = store::operations::find(txn, id, true);
  CHECK(record->stdout_data == "abc");
  CHECK(record->stderr_data == "E");
  CHECK(record->output_seq == 4);
}

TEST_CASE("a chunk past the next expected one is refused as out of sequence", "[store][output]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  CHECK(store::operations::append_output(txn, fx.server_id, id, {{1, 1, "a"}}, roomy)->seq == 1);
  CHECK_THROWS_AS(store::operations::append_output(txn, fx.server_id, id, {{2, 1, "b"}, {4, 1, "d"}}, roomy),
                  store::operations::OutputOutOfSequence);
}

TEST_CASE("a finished ahead of its output is refused, one after it completes the operation", "[store][output]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  store::operations::append_output(txn, fx.server_id, id, {{1, 1, "a"}}, roomy);
  const store::operations::Completion done{"completed", 0, 5, std::nullopt};
  CHECK_THROWS_AS(store::operations::finish(txn, fx.server_id, id, done, 2), store::operations::OutputOutOfSequence);
  CHECK(store::operations::finish(txn, fx.server_id, id, done, 1));
  CHECK(store::operations::find(txn, id, false)->status == "completed");
}

TEST_CASE("output past the per-stream limit is cut and flagged", "[store][output]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  const store::operations::OutputLimits small{5};
  CHECK(store::operations::append_output(txn, fx.server_id, id, {{1, 1, "1234"}, {2, 1, "5678"}, {3, 2, "err"}, {4, 1, "9"}},
                                          small)->seq == 4);
  const auto record = store::operations::find(txn, id, true);
  CHECK(record->stdout_data == "12345");
  CHECK(record->stdout_truncated);
  CHECK(record->stderr_data == "err");
  CHECK_FALSE(record->stderr_truncated);
}

TEST_CASE("stored output is read back page by page after a sequence number", "[store][output]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  store::operations::append_output(txn, fx.server_id, id, {{1, 1, "a"}, {2, 2, "E"}, {3, 1, "b"}, {4, 1, "c"}}, roomy);
  const auto page = store::operations::output_after(txn, id, 1, 2);
  REQUIRE(page.size() == 2);
  CHECK(page[0].seq == 2);
  CHECK(page[0].stream == 2);
  CHECK(page[0].data == "E");
  CHECK(page[1].seq == 3);
  CHECK(page[1].data == "b");
  CHECK(store::operations::output_after(txn, id, 4, 10).empty());
}

TEST_CASE("chunks past the stored limit are missing from a read-back", "[store][output]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  store::operations::append_output(txn, fx.server_id, id, {{1, 1, "12345"}, {2, 1, "678"}, {3, 2, "err"}}, {5});
  const auto page = store::operations::output_after(txn, id, 0, 10);
  REQUIRE(page.size() == 2);
  CHECK(page[0].seq == 1);
  CHECK(page[1].seq == 3);
}

TEST_CASE("output of an unknown operation is reported as such", "[store][output]") {
  testing::StoreFixture fx;
  pqxx::work txn(fx.connection);
  CHECK_FALSE(store::operations::append_output(txn, fx.server_id, ids::new_uuid(), {{1, 1, "x"}}, roomy));
}

TEST_CASE("the first ending of an operation wins and status never moves back", "[store][lifecycle]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  CHECK(store::operations::mark_running(txn, fx.server_id, id, true));
  CHECK(store::operations::complete(txn, fx.server_id, id, {"completed", 3, 12, std::nullopt}));
  CHECK_FALSE(store::operations::complete(txn, fx.server_id, id, {"failed", std::nullopt, std::nullopt, "late"}));
  CHECK_FALSE(store::operations::mark_running(txn, fx.server_id, id, true));
  const auto record = store::operations::find(txn, id, false);
  CHECK(record->status == "completed");
  CHECK(*record->exit_code == 3);
  CHECK(*record->duration_ms == 12);
  CHECK_FALSE(record->error);
  CHECK(record->started_at);
  CHECK(record->completed_at);
}

TEST_CASE("env key names, run id and server name are read back with an operation", "[store][secrets]") {
  // That no env value reaches the params is proven where they are built, by submitting an
  // operation with values: tests/controller/services/operation_service_test.cpp.
  testing::StoreFixture fx;
  const auto id = fx.new_operation();
  pqxx::work txn(fx.connection);
  const auto record = store::operations::find(txn, id, false);
  CHECK(record->env_keys == std::vector<std::string>{"API_KEY"});
  CHECK(*record->run_id == "run-1");
  CHECK(record->server_name.rfind("web-", 0) == 0);
}

TEST_CASE("queued operations past their deadline fail with a clear error", "[store][deadline]") {
  testing::StoreFixture fx;
  const auto id = fx.new_operation("queued");
  {
    pqxx::work txn(fx.connection);
    txn.exec_params("UPDATE operations SET created_at = now() - interval '61 seconds' WHERE id = $1", id);
    txn.commit();
  }
  pqxx::work txn(fx.connection);
  const auto failed = store::operations::fail_expired_queued(txn, std::chrono::system_clock::now());
  REQUIRE(failed == std::vector<std::string>{id});
  const auto record = store::operations::find(txn, id, false);
  CHECK(record->status == "failed");
  CHECK_THAT(*record->error, Catch::Contains("did not connect"));
}

TEST_CASE("open operations of a server are listed for reconciliation", "[store][reconnect]") {
  testing::StoreFixture fx;
  const auto running = fx.new_operation("dispatched");
  const auto queued = fx.new_operation("queued");
  pqxx::work txn(fx.connection);
  store::operations::mark_running(txn, fx.server_id, running, true);
  const auto open = store::operations::open_for_server(txn, fx.server_id);
  REQUIRE(open.size() == 1);
  CHECK(open[0].operation_id == running);
  CHECK(open[0].status == "running");
  CHECK(store::operations::queued_for_server(txn, fx.server_id) == std::vector<std::string>{queued});
}
