#include "store_fixture.hpp"

#include "tests/support/wait.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <memory>

using namespace tether;

TEST_CASE("migrations apply once and a second start applies nothing", "[store][migrations]") {
  testing::TestDatabase database;
  pqxx::connection connection(database.url());
  const auto& migrations = store::embedded_migrations();
  REQUIRE_FALSE(migrations.empty());
  CHECK(migrations.front().version == 1);
  CHECK(store::apply_migrations(connection, migrations) == static_cast<int>(migrations.size()));
  CHECK(store::apply_migrations(connection, migrations) == 0);
  pqxx::work txn(connection);
  CHECK(txn.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() == static_cast<int>(migrations.size()));
  CHECK(txn.exec1("SELECT to_regclass('operations') IS NOT NULL")[0].as<bool>());
}

TEST_CASE("a failing migration leaves nothing applied", "[store][migrations]") {
  testing::TestDatabase database;
  pqxx::connection connection(database.url());
  std::vector<store::Migration> broken = store::embedded_migrations();
  broken.push_back({9999, "9999_broken.sql", "CREATE TABLE will_vanish (id int); SELECT no_such_function();"});
  CHECK_THROWS(store::apply_migrations(connection, broken));
  pqxx::work txn(connection);
  CHECK(txn.exec1("SELECT to_regclass('will_vanish') IS NULL AND to_regclass('schema_migrations') IS NULL")[0]
            .as<bool>());
}

TEST_CASE("two controllers migrating the same fresh database at once apply each migration once and both start",
          "[store][migrations]") {
  // The test holds the migrations' advisory lock while both start, so both are certainly inside
  // apply_migrations at the same time; then it lets them race.
  testing::TestDatabase database;
  const auto& migrations = store::embedded_migrations();
  pqxx::connection holder_connection(database.url());
  auto holder = std::make_unique<pqxx::work>(holder_connection);
  holder->exec("SELECT pg_advisory_xact_lock(" + std::to_string(0x7e74686572LL) + ")");

  std::vector<std::future<int>> controllers;
  for (int i = 0; i < 2; ++i) {
    controllers.push_back(std::async(std::launch::async, [&] {
      pqxx::connection connection(database.url());
      return store::apply_migrations(connection, migrations);
    }));
  }
  pqxx::connection observer(database.url());
  const bool both_waiting = testing::wait_until(
      [&] {
        pqxx::nontransaction look(observer);
        return look.exec1("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
                          "(SELECT oid FROM pg_database WHERE datname = current_database())")[0]
                   .as<int>() == 2;
      },
      std::chrono::seconds(20));
  holder->commit();
  holder.reset();
  REQUIRE(both_waiting);

  std::vector<int> applied;
  for (auto& controller : controllers) {
    REQUIRE_NOTHROW(applied.push_back(controller.get()));
  }
  std::sort(applied.begin(), applied.end());
  CHECK(applied == std::vector<int>{0, static_cast<int>(migrations.size())});
  pqxx::work txn(observer);
  CHECK(txn.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() == static_cast<int>(migrations.size()));
}
