// Jobs: keyset pages with ties on created_at, the source filter with the cursor, and an index
// behind every page.
#include "page_walk.hpp"
#include "store_fixture.hpp"

#include "controller/store/job_store.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether;

namespace {

// `count` jobs, five to a creation time (with microseconds); every fourth declared in config.
void insert_jobs(pqxx::connection& connection, int count) {
  pqxx::work txn(connection);
  txn.exec_params(
      "INSERT INTO jobs (id, name, source, operation_type, operation_params, created_by, created_at, updated_at) "
      "SELECT gen_random_uuid(), 'job-' || i, CASE WHEN i % 4 = 0 THEN 'config' ELSE 'dynamic' END, 'exec', '{}', "
      "'test', timestamptz '2026-12-01 00:00:00.654321+00' + (i / 5) * interval '0.000001 second', now() "
      "FROM generate_series(1, $1) AS i",
      count);
  txn.exec("ANALYZE jobs");
  txn.commit();
}

std::vector<std::string> walk(pqxx::connection& connection, const std::optional<std::string>& source, int limit) {
  pqxx::read_transaction txn(connection);
  return testing::walk_pages([&](const store::PageRequest& page) { return store::jobs::list(txn, source, page); },
                             limit, [](const store::JobRecord& job) { return job.id; });
}

std::vector<std::string> expected(pqxx::connection& connection, const std::string& where) {
  pqxx::read_transaction txn(connection);
  return testing::column_of(txn, "SELECT id::text FROM jobs WHERE " + where + " ORDER BY created_at DESC, id DESC");
}

}  // namespace

TEST_CASE("jobs: pages split inside groups created in the same microsecond still give every job once, newest first",
          "[store][pages]") {
  testing::StoreFixture fx;
  insert_jobs(fx.connection, 503);

  const auto all = walk(fx.connection, std::nullopt, 12);
  CHECK(all.size() == 503);
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 503);
  CHECK(all == expected(fx.connection, "true"));
  CHECK(walk(fx.connection, std::nullopt, 1000) == all);

  const auto config = walk(fx.connection, std::string("config"), 13);
  CHECK(config.size() == 125);
  CHECK(config == expected(fx.connection, "source = 'config'"));
}

TEST_CASE("jobs: a job created or deleted during a walk shifts no other job", "[store][pages]") {
  testing::StoreFixture fx;
  insert_jobs(fx.connection, 60);
  const auto before = expected(fx.connection, "true");

  std::vector<std::string> seen;
  store::PageRequest request{10, std::nullopt};
  for (int page_number = 0;; ++page_number) {
    store::Page<store::JobRecord> page;
    {
      pqxx::read_transaction txn(fx.connection);
      page = store::jobs::list(txn, std::nullopt, request);
    }
    for (const auto& job : page.rows) seen.push_back(job.id);
    if (!page.next) break;
    request.after = page.next;
    if (page_number == 1) {
      // Between pages: a new job (newest: before the walk's position) and one not yet read deleted.
      pqxx::work txn(fx.connection);
      txn.exec("INSERT INTO jobs (id, name, operation_type, operation_params, created_by, created_at) "
               "VALUES (gen_random_uuid(), 'late', 'exec', '{}', 'test', now())");
      txn.exec_params("DELETE FROM jobs WHERE id = $1", before[45]);
      txn.commit();
    }
  }
  auto stayed = before;
  stayed.erase(stayed.begin() + 45);
  CHECK(seen == stayed);
}

TEST_CASE("jobs: every page, first or deep, with or without the source filter, is one index range with no sort",
          "[store][pages][explain]") {
  testing::StoreFixture fx;
  insert_jobs(fx.connection, 4000);

  const auto middle = pqxx::read_transaction(fx.connection)
                          .exec1("SELECT (extract(epoch from created_at) * 1000000)::bigint::text, id::text FROM jobs "
                                 "ORDER BY created_at DESC, id DESC OFFSET 2000 LIMIT 1");
  const store::PageAfter deep{middle[0].as<std::string>(), middle[1].as<std::string>()};
  for (const auto& source : {std::optional<std::string>(), std::optional<std::string>("dynamic")}) {
    for (const bool first : {true, false}) {
      const store::PageRequest page{100, first ? std::nullopt : std::optional<store::PageAfter>(deep)};
      // The plan PostgreSQL used for the list's own statement with these parameters.
      const auto plan = testing::first_plan(
          testing::plans_of(fx.connection, [&](pqxx::transaction_base& txn) { store::jobs::list(txn, source, page); }));
      INFO((source ? "source dynamic" : "all") << (first ? ", first page" : ", deep page") << "\n" << plan);
      CHECK(plan.find("Index Scan using jobs_by_created on jobs") != std::string::npos);
      CHECK(plan.find("Sort") == std::string::npos);
      if (!first) CHECK(testing::position_in_index_cond(plan));
    }
  }
}
