// Submitting an operation stores it without its secrets: env values and a registry password go
// to the agent only, never into operations.params, the audit log or any other row.
#include "../store/store_fixture.hpp"

#include "common/crypto.hpp"
#include "controller/services/operation_service.hpp"
#include "controller/store/db_pool.hpp"
#include "controller/store/key_store.hpp"

#include <catch2/catch.hpp>

using namespace tether;

namespace {

store::AutomationKeyRecord stored_key(testing::StoreFixture& fx) {
  const auto id = ids::new_uuid();
  pqxx::work txn(fx.connection);
  auto key = store::keys::insert_automation_key(
      txn, {id, "ci", "rca_" + id.substr(0, 8), "hash-" + id, {}, {}, std::nullopt, "test"});
  txn.commit();
  return key;
}

std::string secret(const char* label) { return std::string(label) + "-" + crypto::hex_encode(crypto::random_bytes(12)); }

}  // namespace

TEST_CASE("a submitted operation keeps its env key names and stores no env value or password anywhere",
          "[services][secrets]") {
  testing::StoreFixture fx;
  const auto key = stored_key(fx);
  const std::string env_value = secret("env-value");
  const std::string other_value = secret("other-value");
  const std::string password = secret("password");

  services::OperationSubmission exec;
  exec.dispatch.operation_id = ids::new_uuid();
  exec.dispatch.command = "echo \"$API_KEY\"";
  exec.dispatch.env = {{"API_KEY", env_value}, {"OTHER", other_value}};
  exec.server_id = fx.server_id;
  exec.run.run_id = "run-1";

  services::OperationSubmission login;
  login.dispatch.operation_id = ids::new_uuid();
  login.dispatch.operation_type = "registry_login";
  login.dispatch.registry_url = "ghcr.io";
  login.dispatch.username = "bot";
  login.dispatch.password = password;
  login.server_id = fx.server_id;

  {
    // No agent is connected to this dispatcher: both are stored as queued.
    store::DbPool pool(fx.database.url(), 1, [](pqxx::connection&) {});
    dispatch::Dispatcher dispatcher(pool, {});
    SystemClock clock;
    operations::Lifecycle lifecycle(dispatcher, clock);
    pqxx::work txn(fx.connection);
    CHECK(services::submit_operation(txn, lifecycle, key, exec, "127.0.0.1").status == "queued");
    CHECK(services::submit_operation(txn, lifecycle, key, login, "127.0.0.1").status == "queued");
    txn.commit();
    pool.stop();
  }

  pqxx::work txn(fx.connection);
  const auto record = store::operations::find(txn, exec.dispatch.operation_id, false);
  REQUIRE(record);
  CHECK(record->env_keys == std::vector<std::string>{"API_KEY", "OTHER"});
  CHECK(*record->run_id == "run-1");
  CHECK(record->params_json.find("echo") != std::string::npos);  // the command itself is kept
  const auto login_record = store::operations::find(txn, login.dispatch.operation_id, false);
  REQUIRE(login_record);
  CHECK(login_record->params_json.find("bot") != std::string::npos);  // the user name is kept

  const std::string dump = fx.database.dump();
  CHECK(dump.find(exec.dispatch.operation_id) != std::string::npos);  // the dump holds the operations
  for (const auto& value : {env_value, other_value, password}) {
    INFO("secret " << value);
    CHECK(record->params_json.find(value) == std::string::npos);
    CHECK(login_record->params_json.find(value) == std::string::npos);
    CHECK(dump.find(value) == std::string::npos);
    CHECK(dump.find(crypto::hex_encode(value)) == std::string::npos);
  }
}
