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

TEST_CASE("operator keys: inserted with their creator and expiry, listed, found by prefix, revoked once",
          "[store][keys]") {
  testing::StoreFixture fx;
  pqxx::work txn(fx.connection);
  const auto id = ids::new_uuid();
  const auto prefix = "tak_" + id.substr(0, 8);
  const auto inserted = store::keys::insert_api_key(
      txn, {id, "deployer", "operator", prefix, "hash", "user:ann", std::string("2999-01-01T00:00:00Z")});
  CHECK(inserted.created_by == "user:ann");
  CHECK(inserted.expires_at == std::optional<std::string>("2999-01-01T00:00:00Z"));
  CHECK_FALSE(inserted.expired);
  CHECK_FALSE(inserted.revoked_at);
  CHECK(inserted.key_prefix == prefix);
  bool listed = false;
  const auto keys = store::keys::list_api_keys(txn, {});
  for (const auto& key : keys.rows) listed |= key.id == id && key.role == "operator";
  CHECK(listed);
  const auto first = store::keys::revoke_api_key(txn, id);
  REQUIRE(first);
  CHECK(store::keys::revoke_api_key(txn, id) == first);
  const auto found = store::keys::find_api_key(txn, prefix);
  REQUIRE(found);
  CHECK(found->revoked);
  CHECK(found->revoked_at == first);
  CHECK_FALSE(store::keys::revoke_api_key(txn, ids::new_uuid()));
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
  const auto operator_expired = ids::new_uuid();
  store::keys::insert_api_key(txn, {operator_valid, "viewer", "viewer", "tak_" + operator_valid.substr(0, 8), "hash-1"});
  store::keys::insert_api_key(txn, {operator_revoked, "gone", "viewer", "tak_" + operator_revoked.substr(0, 8), "hash-2"});
  store::keys::insert_api_key(txn, {operator_expired, "old", "viewer", "tak_" + operator_expired.substr(0, 8), "hash-3",
                                    "cli", std::string("2000-01-01T00:00:00Z")});
  CHECK(store::keys::revoke_api_key(txn, operator_revoked));

  auto invalid = store::keys::invalid_keys(txn, {operator_valid, operator_revoked, operator_expired},
                                           {valid.id, expired.id, revoked.id, unknown});
  std::sort(invalid.automation_keys.begin(), invalid.automation_keys.end());
  auto expected = std::vector<std::string>{expired.id, revoked.id, unknown};
  std::sort(expected.begin(), expected.end());
  CHECK(invalid.automation_keys == expected);
  std::sort(invalid.operator_keys.begin(), invalid.operator_keys.end());
  auto expected_operator = std::vector<std::string>{operator_revoked, operator_expired};
  std::sort(expected_operator.begin(), expected_operator.end());
  CHECK(invalid.operator_keys == expected_operator);
  CHECK(store::keys::invalid_keys(txn, {}, {}).automation_keys.empty());
}
