// The operator REST API with an admin key: health, servers (create, list, get, delete) and
// automation keys (create, list, revoke).
#include "tests/e2e/e2e_checks.hpp"

#include "tests/support/wait.hpp"

#include <sys/utsname.h>
#include <unistd.h>

using namespace tether;
using namespace tether::e2e;

namespace {

const boost::json::object* find_by_id(const boost::json::array& items, const std::string& id) {
  for (const auto& item : items) {
    if (item.is_object() && item.as_object().contains("id") && item.as_object().at("id") == id.c_str()) {
      return &item.as_object();
    }
  }
  return nullptr;
}

// An agent's WebSocket upgrade request with this token.
http::Response agent_upgrade(testing::TetherStack& stack, const std::string& token) {
  auto client = stack.client();
  return client.get("/api/agent/ws", {http::bearer(token),
                                      {"Connection", "Upgrade"},
                                      {"Upgrade", "websocket"},
                                      {"Sec-WebSocket-Version", "13"},
                                      {"Sec-WebSocket-Key", crypto::base64_encode(crypto::random_bytes(16))}});
}

}  // namespace

TEST_CASE("health answers without authentication", "[e2e][operator]") {
  auto& stack = shared_stack();
  auto client = stack.client();
  const auto response = client.get("/api/health");
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "ok");
  CHECK(string_field(body, "version") == "0.1.0");
  CHECK(int_field(body, "uptime_s") >= 0);
}

TEST_CASE("operator endpoints refuse requests without a valid admin key", "[e2e][operator]") {
  auto& stack = shared_stack();
  const auto automation_key = stack.create_automation_key();
  auto client = stack.client();
  for (const char* target : {"/api/servers", "/api/automation-keys"}) {
    INFO(target);
    check_error(client.get(target), 401);
    check_error(client.get(target, {http::bearer(crypto::new_secret("tak_"))}), 401);
    check_error(client.get(target, {http::bearer(automation_key.key)}), 401);
  }
  check_error(client.post("/api/servers", R"({"name":"sneaky"})"), 401);
}

TEST_CASE("creating a server returns its id and a one-time agent token; list and get show it without the token",
          "[e2e][operator]") {
  auto& stack = shared_stack();
  const auto created_response = stack.admin("POST", "/api/servers", R"({"name":"web-7","tags":["prod","eu"]})");
  INFO(describe(created_response));
  REQUIRE(created_response.status == 201);
  const auto created = json_object(created_response);
  const std::string id = string_field(created, "id");
  const std::string token = string_field(created, "agent_token");
  CHECK(ids::is_uuid(id));
  CHECK(is_secret(token, "tat_"));
  CHECK(string_field(created, "name") == "web-7");
  CHECK(created.at("tags") == boost::json::array{"prod", "eu"});
  CHECK(string_field(created, "status") == "provisioning");

  const auto list_response = stack.admin("GET", "/api/servers");
  INFO(describe(list_response));
  REQUIRE(list_response.status == 200);
  CHECK(list_response.body.find(token) == std::string::npos);
  const auto list = json_object(list_response);
  REQUIRE(list.contains("servers"));
  const auto& servers = list.at("servers").as_array();
  const auto* listed = find_by_id(servers, id);
  REQUIRE(listed != nullptr);
  CHECK_FALSE(listed->contains("agent_token"));
  CHECK(string_field(*listed, "status") == "provisioning");
  REQUIRE(find_by_id(servers, stack.server_id()) != nullptr);
  CHECK(string_field(*find_by_id(servers, stack.server_id()), "status") == "active");

  const auto fetched_response = stack.admin("GET", "/api/servers/" + id);
  INFO(describe(fetched_response));
  REQUIRE(fetched_response.status == 200);
  CHECK(fetched_response.body.find(token) == std::string::npos);
  const auto fetched = json_object(fetched_response);
  for (const char* field : {"id", "name", "tags", "status", "connected", "hostname", "os", "kernel", "arch",
                            "agent_version", "boot_id", "last_seen_at", "created_at"}) {
    INFO("field " << field);
    CHECK(fetched.contains(field));
  }
  CHECK(fetched.at("connected") == false);
  CHECK(is_rfc3339_utc(fetched.at("created_at")));
}

TEST_CASE("a connected server shows the facts its agent reported", "[e2e][operator]") {
  auto& stack = shared_stack();
  const auto server = stack.get_server(stack.server_id());
  INFO(boost::json::serialize(server));
  CHECK(string_field(server, "status") == "active");
  CHECK(server.at("connected") == true);
  char hostname[256] = {};
  REQUIRE(::gethostname(hostname, sizeof hostname - 1) == 0);
  struct utsname host{};
  REQUIRE(::uname(&host) == 0);
  CHECK(string_field(server, "hostname") == hostname);  // the agent runs on this machine
  CHECK(string_field(server, "kernel") == host.release);
  CHECK(string_field(server, "arch") == host.machine);
  CHECK_FALSE(string_field(server, "os").empty());
  CHECK(string_field(server, "agent_version") == "0.1.0");
  CHECK_FALSE(string_field(server, "boot_id").empty());
  CHECK(is_rfc3339_utc(server.at("last_seen_at")));
}

TEST_CASE("getting or deleting a server that does not exist gets 404", "[e2e][operator]") {
  auto& stack = shared_stack();
  check_error(stack.admin("GET", "/api/servers/" + ids::new_uuid()), 404);
  check_error(stack.admin("DELETE", "/api/servers/" + ids::new_uuid()), 404);
}

TEST_CASE("deleting a server revokes its token: the agent socket can no longer be opened with it",
          "[e2e][operator]") {
  auto& stack = shared_stack();
  const auto created = stack.create_server("short-lived");
  const std::string id = string_field(created, "id");
  const std::string token = string_field(created, "agent_token");

  const auto before = agent_upgrade(stack, token);
  INFO("before the delete: " << describe(before));
  CHECK(before.status == 101);

  const auto deleted = stack.admin("DELETE", "/api/servers/" + id);
  INFO(describe(deleted));
  REQUIRE(deleted.status == 200);
  const auto body = json_object(deleted);
  CHECK(string_field(body, "id") == id);
  CHECK(string_field(body, "status") == "decommissioned");

  const auto after = agent_upgrade(stack, token);
  INFO("after the delete: " << describe(after));
  CHECK(after.status == 401);
  CHECK(string_field(stack.get_server(id), "status") == "decommissioned");
}

TEST_CASE("deleting a server with a connected agent disconnects the agent", "[e2e][operator]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database);
  const std::string id = stack.server_id();
  REQUIRE(stack.get_server(id).at("connected") == true);

  const auto deleted = stack.admin("DELETE", "/api/servers/" + id);
  INFO(describe(deleted));
  REQUIRE(deleted.status == 200);
  CHECK(string_field(json_object(deleted), "status") == "decommissioned");

  CHECK(testing::wait_until([&] { return stack.get_server(id).at("connected") == false; }, std::chrono::seconds(10)));
  CHECK(string_field(stack.get_server(id), "status") == "decommissioned");
  CHECK(agent_upgrade(stack, stack.agent().token).status == 401);
  // The agent keeps trying (or gives up), but its socket stays closed.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(stack.get_server(id).at("connected") == false);
}

TEST_CASE("automation keys: the secret is shown once at creation, never listed, and revocation is recorded",
          "[e2e][operator]") {
  auto& stack = shared_stack();
  const std::string body = boost::json::serialize(boost::json::object{
      {"name", "ci-deploy"},
      {"allowed_server_ids", boost::json::array{stack.server_id().c_str()}},
      {"allowed_operations", boost::json::array{"exec"}},
      {"expires_at", nullptr}});
  const auto created_response = stack.admin("POST", "/api/automation-keys", body);
  INFO(describe(created_response));
  REQUIRE(created_response.status == 201);
  const auto created = json_object(created_response);
  const std::string id = string_field(created, "id");
  const std::string secret = string_field(created, "key");
  CHECK(ids::is_uuid(id));
  CHECK(is_secret(secret, "rca_"));
  CHECK(string_field(created, "name") == "ci-deploy");
  const std::string prefix = string_field(created, "key_prefix");
  CHECK(prefix.size() >= 4);
  CHECK(prefix.size() < secret.size());
  CHECK(secret.rfind(prefix, 0) == 0);
  CHECK(created.at("allowed_server_ids") == boost::json::array{stack.server_id().c_str()});
  CHECK(created.at("allowed_operations") == boost::json::array{"exec"});
  CHECK(created.at("expires_at").is_null());
  CHECK(is_rfc3339_utc(created.at("created_at")));

  const auto list_before = stack.admin("GET", "/api/automation-keys");
  INFO(describe(list_before));
  REQUIRE(list_before.status == 200);
  CHECK(list_before.body.find(secret) == std::string::npos);
  const auto keys_before = json_object(list_before);
  const auto* listed = find_by_id(keys_before.at("keys").as_array(), id);
  REQUIRE(listed != nullptr);
  CHECK_FALSE(listed->contains("key"));
  CHECK(string_field(*listed, "key_prefix") == prefix);
  CHECK(listed->at("revoked_at").is_null());
  CHECK(listed->at("last_used_at").is_null());

  auto client = stack.client();
  const auto used = testing::exec(client, secret, exec_body(stack.server_id(), "true"));
  INFO(describe(used));
  REQUIRE(used.status == 200);

  const auto revoked = stack.admin("DELETE", "/api/automation-keys/" + id);
  INFO(describe(revoked));
  REQUIRE(revoked.status == 200);
  const auto revoked_body = json_object(revoked);
  CHECK(string_field(revoked_body, "id") == id);
  CHECK(is_rfc3339_utc(revoked_body.at("revoked_at")));

  const auto list_after = stack.admin("GET", "/api/automation-keys");
  REQUIRE(list_after.status == 200);
  CHECK(list_after.body.find(secret) == std::string::npos);
  const auto keys_after = json_object(list_after);
  const auto* after = find_by_id(keys_after.at("keys").as_array(), id);
  REQUIRE(after != nullptr);
  CHECK(is_rfc3339_utc(after->at("revoked_at")));
  CHECK(is_rfc3339_utc(after->at("last_used_at")));
}

TEST_CASE("revoking an automation key that does not exist gets 404", "[e2e][operator]") {
  check_error(shared_stack().admin("DELETE", "/api/automation-keys/" + ids::new_uuid()), 404);
}

TEST_CASE("automation keys with an expiry in the past, unknown servers ids or operations are refused with 422",
          "[e2e][operator]") {
  auto& stack = shared_stack();
  check_error(stack.admin("POST", "/api/automation-keys",
                          R"({"name":"stale","allowed_server_ids":[],"allowed_operations":[],)"
                          R"("expires_at":"2020-01-01T00:00:00Z"})"),
              422);
  check_error(stack.admin("POST", "/api/automation-keys",
                          R"({"name":"bad-server","allowed_server_ids":["web-1"],"allowed_operations":[]})"),
              422);
  check_error(stack.admin("POST", "/api/automation-keys",
                          R"({"name":"bad-op","allowed_server_ids":[],"allowed_operations":["format_disk"]})"),
              422);
  check_error(stack.admin("POST", "/api/servers", R"({"tags":["no-name"]})"), 422);
}
