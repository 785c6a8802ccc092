#include "store_fixture.hpp"

#include "controller/store/key_store.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

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

TEST_CASE("of the keys of open streams, the revoked, expired and unknown ones are reported invalid",
          "[store][keys][streams]") {
  testing::StoreFixture fx;
  pqxx::work txn(fx.connection);
  const auto valid = key_named("valid", std::string("2999-01-01T00:00:00Z"));
  const auto expired = key_named("expired", std::string("2000-01-01T00:00:00Z"));
  const auto revoked = key_named("revoked", std::nullopt);
  for (const auto* key : {&valid, &expired, &revoked}) store::keys::insert_automation_key(txn, *key);
  store::keys::revoke_automation_key(txn, revoked.id);
  const auto unknown = ids::new_uuid();

  const auto operator_valid = ids::new_uuid();
  const auto operator_revoked = ids::new_uuid();
  store::keys::insert_api_key(txn, operator_valid, "viewer", "viewer", "tak_" + operator_valid.substr(0, 8), "hash-1");
  store::keys::insert_api_key(txn, operator_revoked, "gone", "viewer", "tak_" + operator_revoked.substr(0, 8), "hash-2");
  txn.exec_params("UPDATE api_keys SET revoked_at = now() WHERE id = $1", operator_revoked);

  auto invalid = store::keys::invalid_keys(txn, {operator_valid, operator_revoked},
                                           {valid.id, expired.id, revoked.id, unknown});
  std::sort(invalid.automation_keys.begin(), invalid.automation_keys.end());
  auto expected = std::vector<std::string>{expired.id, revoked.id, unknown};
  std::sort(expected.begin(), expected.end());
  CHECK(invalid.automation_keys == expected);
  CHECK(invalid.operator_keys == std::vector<std::string>{operator_revoked});
  CHECK(store::keys::invalid_keys(txn, {}, {}).automation_keys.empty());
}
