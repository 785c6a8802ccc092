#include "store_fixture.hpp"

#include <catch2/catch.hpp>

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
