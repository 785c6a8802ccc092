#include "store_fixture.hpp"

#include "controller/store/key_store.hpp"

#include <catch2/catch.hpp>

using namespace tether;

namespace {
store::keys::NewAutomationKey key_named(const std::string& name, std::optional<std::string> expires_at) {
  const auto id = ids::new_uuid();
  return {id, name, "rca_" + id.substr(0, 8), "hash-" + id, {}, {"exec"}, std::move(expires_at), "test"};
}
}  // namespace

TEST_CASE("automation keys round-trip their scopes", "[store][keys]") {
  testing::StoreFixture fx;
  pqxx::work txn(fx.connection);
  auto input = key_named("ci", std::nullopt);
  input.allowed_server_ids = {fx.server_id};
  const auto stored = store::keys::insert_automation_key(txn, input);
  const auto found = store::keys::find_automation_key(txn, input.prefix);
  REQUIRE(found);
  CHECK(found->id == stored.id);
  CHECK(found->allowed_server_ids == std::vector<std::string>{fx.server_id});
  CHECK(found->allowed_operations == std::vector<std::string>{"exec"});
  CHECK(found->rate_limit_per_minute == 100);
  CHECK_FALSE(found->expired);
}

TEST_CASE("expiry is judged by the database clock", "[store][keys]") {
  testing::StoreFixture fx;
  pqxx::work txn(fx.connection);
  const auto past = key_named("old", std::string("2000-01-01T00:00:00Z"));
  const auto future = key_named("new", std::string("2999-01-01T00:00:00Z"));
  store::keys::insert_automation_key(txn, past);
  store::keys::insert_automation_key(txn, future);
  CHECK(store::keys::find_automation_key(txn, past.prefix)->expired);
  CHECK_FALSE(store::keys::find_automation_key(txn, future.prefix)->expired);
}

TEST_CASE("revoking keeps the first revocation time and unknown keys are reported", "[store][keys]") {
  testing::StoreFixture fx;
  const auto input = key_named("ci", std::nullopt);
  {
    pqxx::work txn(fx.connection);
    store::keys::insert_automation_key(txn, input);
    REQUIRE(store::keys::revoke_automation_key(txn, input.id));
    txn.commit();
  }
  // The first revocation happened long ago: a second one, in a later transaction and so at
  // another now(), must report and keep that time rather than its own.
  const std::string first = "2001-02-03T04:05:06Z";
  {
    pqxx::work txn(fx.connection);
    txn.exec_params("UPDATE automation_keys SET revoked_at = $2::timestamptz WHERE id = $1", input.id, first);
    txn.commit();
  }
  pqxx::work txn(fx.connection);
  CHECK(store::keys::revoke_automation_key(txn, input.id) == first);
  CHECK(store::keys::find_automation_key(txn, input.prefix)->revoked_at == first);
  CHECK_FALSE(store::keys::revoke_automation_key(txn, ids::new_uuid()));
}
