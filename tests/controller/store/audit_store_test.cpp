#include "store_fixture.hpp"

#include "controller/store/audit_store.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether;

namespace {

std::set<std::string> actions_of(const std::vector<store::audit::Row>& rows) {
  std::set<std::string> out;
  for (const auto& row : rows) out.insert(row.action);
  return out;
}

}  // namespace

TEST_CASE("the audit log is read by username, actor and action prefix, with its target and Unix time",
          "[store][audit]") {
  testing::StoreFixture fx;
  pqxx::work txn(fx.connection);
  store::audit::record(txn, {"user:ann", "servers.create", std::string("s-1"), std::string("192.0.2.1"), "allowed", "{}"});
  store::audit::record(txn, {"user:ann", "servers.update", std::string("s-1"), std::string("192.0.2.1"), "allowed", "{}"});
  store::audit::record(txn, {"user:annabel", "servers.delete", std::string("s-1"), std::nullopt, "allowed", "{}"});
  store::audit::record(txn, {"api_key:k", "server_groups.create", std::nullopt, std::nullopt, "allowed", "{}"});
  store::audit::record(txn, {"cli", "api_keys.create", std::string("k"), std::nullopt, "allowed", "{}"});

  store::audit::Filter by_user;
  by_user.username = "ann";
  const auto ann = store::audit::query(txn, by_user, 0);
  CHECK(actions_of(ann) == std::set<std::string>{"servers.create", "servers.update"});
  REQUIRE_FALSE(ann.empty());
  CHECK(ann.front().target == std::optional<std::string>("s-1"));
  CHECK(ann.front().at_unix > 1'700'000'000);

  store::audit::Filter by_actor;
  by_actor.actor = "cli";
  CHECK(actions_of(store::audit::query(txn, by_actor, 0)) == std::set<std::string>{"api_keys.create"});
  by_actor.username = "cli";  // an actor that is not a user's is matched by username too
  CHECK(store::audit::query(txn, by_actor, 0).size() == 1);

  store::audit::Filter by_prefix;
  by_prefix.action_prefix = "servers.";
  CHECK(actions_of(store::audit::query(txn, by_prefix, 0)) ==
        std::set<std::string>{"servers.create", "servers.update", "servers.delete"});
  by_prefix.action_prefix = "%";  // not a pattern
  CHECK(store::audit::query(txn, by_prefix, 0).empty());
}
