// Runs, the biggest list after operations: keyset pages with ties on scheduled_at, the filters
// with the cursor, and an index behind every page.
#include "page_walk.hpp"
#include "store_fixture.hpp"

#include "controller/store/run_store.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether;

namespace {

const std::string job_a = "0000000a-0000-4000-8000-000000000000";
const std::string job_b = "0000000b-0000-4000-8000-000000000000";
const std::string trigger_t = "0000000c-0000-4000-8000-000000000000";

// `count` runs, seven to a scheduled time (with microseconds), a third of them job_a's, the rest
// job_b's; every fifth failed, every eleventh fired by trigger_t.
void insert_runs(pqxx::connection& connection, int count) {
  pqxx::work txn(connection);
  txn.exec_params(
      "INSERT INTO runs (id, job_id, trigger_id, status, scheduled_at, operation_type, operation_params, "
      "max_concurrency, created_by, created_at) "
      "SELECT gen_random_uuid(), CASE WHEN i % 3 = 0 THEN $1::uuid ELSE $2::uuid END, "
      "CASE WHEN i % 11 = 0 THEN $3::uuid END, CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'completed' END, "
      "timestamptz '2026-12-01 00:00:00.123457+00' + (i / 7) * interval '1.000001 second', 'exec', '{}', 1, 'test', "
      "now() FROM generate_series(1, $4) AS i",
      job_a, job_b, trigger_t, count);
  txn.exec("ANALYZE runs");
  txn.commit();
}

std::vector<std::string> walk(pqxx::connection& connection, store::runs::ListFilter filter, int limit) {
  pqxx::read_transaction txn(connection);
  return testing::walk_pages(
      [&](const store::PageRequest& page) {
        filter.page = page;
        return store::runs::list(txn, filter);
      },
      limit, [](const store::RunRecord& run) { return run.id; });
}

std::vector<std::string> expected(pqxx::connection& connection, const std::string& where) {
  pqxx::read_transaction txn(connection);
  return testing::column_of(txn, "SELECT id::text FROM runs WHERE " + where + " ORDER BY scheduled_at DESC, id DESC");
}

}  // namespace

TEST_CASE("runs: pages split inside groups of runs scheduled at the same microsecond still give every run once, "
          "newest first",
          "[store][pages]") {
  testing::StoreFixture fx;
  insert_runs(fx.connection, 700);

  const auto all = walk(fx.connection, {}, 37);
  CHECK(all.size() == 700);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 700);
  CHECK(all == expected(fx.connection, "true"));
  // One page of everything, and a limit that divides the list exactly (the last page is full and
  // has no next).
  CHECK(walk(fx.connection, {}, 1000) == all);
  CHECK(walk(fx.connection, {}, 100) == all);
  CHECK(walk(fx.connection, {}, 7) == all);
}

TEST_CASE("runs: the filters hold on every page of a walk", "[store][pages]") {
  testing::StoreFixture fx;
  insert_runs(fx.connection, 700);

  store::runs::ListFilter of_job;
  of_job.job_id = job_a;
  CHECK(walk(fx.connection, of_job, 23) == expected(fx.connection, "job_id = '" + job_a + "'"));

  store::runs::ListFilter failed_of_job = of_job;
  failed_of_job.status = "failed";
  const auto failed = walk(fx.connection, failed_of_job, 5);
  CHECK(failed.size() == 46);  // multiples of 15 up to 700
  CHECK(failed == expected(fx.connection, "job_id = '" + job_a + "' AND status = 'failed'"));

  store::runs::ListFilter of_trigger;
  of_trigger.trigger_id = trigger_t;
  CHECK(walk(fx.connection, of_trigger, 9) == expected(fx.connection, "trigger_id = '" + trigger_t + "'"));

  // since/until on scheduled_at: [10th second, 50th second).
  pqxx::read_transaction txn(fx.connection);
  const auto base_us = txn.exec1("SELECT (extract(epoch from timestamptz '2026-12-01 00:00:00.123457+00') * 1000000)"
                                 "::bigint")[0]
                           .as<std::int64_t>();
  txn.commit();
  store::runs::ListFilter window;
  window.since_us = base_us + 10'000'010;
  window.until_us = base_us + 50'000'050;
  const auto in_window = walk(fx.connection, window, 11);
  CHECK(in_window.size() == 40 * 7);
  CHECK(in_window == expected(fx.connection, "scheduled_at >= timestamptz '2026-12-01 00:00:10.123467+00' "
                                             "AND scheduled_at < timestamptz '2026-12-01 00:00:50.123507+00'"));
}

TEST_CASE("runs: every page, first or deep, with or without a filter, is read through an index, never by sorting "
          "the table",
          "[store][pages][explain]") {
  testing::StoreFixture fx;
  // 5,000 runs of 50 jobs (job_a has 100), 50 fired by trigger_t, 500 failed.
  {
    pqxx::work txn(fx.connection);
    txn.exec_params(
        "INSERT INTO runs (id, job_id, trigger_id, status, scheduled_at, operation_type, operation_params, "
        "max_concurrency, created_by, created_at) "
        "SELECT gen_random_uuid(), CASE WHEN i % 50 = 0 THEN $1::uuid "
        "ELSE ('00000000-0000-4000-8000-' || lpad((i % 50)::text, 12, '0'))::uuid END, "
        "CASE WHEN i % 100 = 0 THEN $2::uuid END, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END, "
        "timestamptz '2026-12-01 00:00:00.123457+00' + (i / 7) * interval '1.000001 second', 'exec', '{}', 1, "
        "'test', now() FROM generate_series(1, 5000) AS i",
        job_a, trigger_t);
    txn.exec("ANALYZE runs");
    txn.commit();
  }

  // A position in the middle of the list, as a cursor carries it.
  const auto middle = pqxx::read_transaction(fx.connection)
                          .exec1("SELECT (extract(epoch from scheduled_at) * 1000000)::bigint::text, id::text FROM runs "
                                 "ORDER BY scheduled_at DESC, id DESC OFFSET 2500 LIMIT 1");
  const store::PageAfter deep{middle[0].as<std::string>(), middle[1].as<std::string>()};
  // The plan PostgreSQL used for the list's own statement with these parameters.
  const auto plan_of = [&](store::runs::ListFilter filter, bool first) {
    filter.page = {100, first ? std::nullopt : std::optional<store::PageAfter>(deep)};
    return testing::main_plan(testing::first_plan(
        testing::plans_of(fx.connection, [&](pqxx::transaction_base& txn) { store::runs::list(txn, filter); })));
  };

  for (const bool first : {true, false}) {
    INFO((first ? "first page" : "deep page"));
    // The whole list: the index in its order, nothing sorted, the position where the scan starts.
    const auto all = plan_of({}, first);
    INFO(all);
    CHECK(all.find("using runs_by_scheduled on runs") != std::string::npos);
    CHECK(all.find("Sort") == std::string::npos);
    if (!first) CHECK(testing::position_in_index_cond(all));

    store::runs::ListFilter of_job, of_trigger, failed;
    of_job.job_id = job_a;
    of_trigger.trigger_id = trigger_t;
    failed.status = "failed";
    testing::check_index_served(plan_of(of_job, first), {"runs_by_job", "runs_by_scheduled"});
    testing::check_index_served(plan_of(of_trigger, first), {"runs_by_trigger", "runs_by_scheduled"});
    testing::check_index_served(plan_of(failed, first), {"runs_by_status", "runs_by_scheduled"});
    if (!first) {
      CHECK(testing::position_in_index_cond(plan_of(of_job, first)));
      CHECK(testing::position_in_index_cond(plan_of(of_trigger, first)));
      CHECK(testing::position_in_index_cond(plan_of(failed, first)));
    }
  }
}

TEST_CASE("runs: a page's target counts, read in one statement, are each run's latest attempt per server",
          "[store][pages]") {
  testing::StoreFixture fx;
  std::vector<std::string> servers{fx.server_id};
  {
    pqxx::work txn(fx.connection);
    for (int i = 0; i < 2; ++i) {
      const auto id = ids::new_uuid();
      store::servers::insert(txn, id, "extra-" + id.substr(0, 8), {}, "tat_" + id.substr(0, 8), "hash");
      servers.push_back(id);
    }
    txn.commit();
  }
  const std::string retried = "00000000-0000-4000-8000-000000000001", waiting = "00000000-0000-4000-8000-000000000002",
                    bare = "00000000-0000-4000-8000-000000000003";
  {
    pqxx::work txn(fx.connection);
    txn.exec("INSERT INTO runs (id, status, scheduled_at, operation_type, operation_params, max_concurrency, "
             "created_by, created_at) SELECT ('00000000-0000-4000-8000-00000000000' || i)::uuid, 'running', now(), "
             "'exec', '{}', 1, 'test', now() FROM generate_series(1, 3) AS i");
    // The retried run: attempt 1 succeeded on one server and failed on two; attempt 2 of those two
    // succeeded on one and is pending on the other.
    const auto target = [&](const std::string& run, int attempt, const std::string& server, const char* state) {
      txn.exec_params("INSERT INTO run_targets (run_id, attempt, server_id, ordinal, state) VALUES ($1, $2, $3, 0, $4)",
                      run, attempt, server, state);
    };
    target(retried, 1, servers[0], "succeeded");
    target(retried, 1, servers[1], "failed");
    target(retried, 1, servers[2], "failed");
    target(retried, 2, servers[1], "succeeded");
    target(retried, 2, servers[2], "pending");
    target(waiting, 1, servers[0], "pending");
    txn.commit();
  }
  pqxx::read_transaction txn(fx.connection);
  const auto counts = store::runs::latest_counts_of(txn, {retried, waiting, bare});
  CHECK(counts.size() == 2);
  CHECK_FALSE(counts.count(bare));
  for (const auto& run : {retried, waiting}) {
    INFO(run);
    REQUIRE(counts.count(run));
    const auto one = store::runs::latest_counts(txn, run);
    const auto& batched = counts.at(run);
    CHECK(batched.total == one.total);
    CHECK(batched.pending == one.pending);
    CHECK(batched.started == one.started);
    CHECK(batched.succeeded == one.succeeded);
    CHECK(batched.failed == one.failed);
    CHECK(batched.canceled == one.canceled);
  }
  CHECK(counts.at(retried).total == 3);
  CHECK(counts.at(retried).succeeded == 2);
  CHECK(counts.at(retried).pending == 1);
  CHECK(counts.at(retried).failed == 0);
}
