// Seed 004's operator API keys over HTTP (/api/admin/api-keys): an admin creates a tak_ key with
// a role and sees its secret once; the key authenticates with that role; lists never carry the
// secret or its hash; a revoked (or expired) key is refused at once and its row stays; 404 for an
// unknown key, 422 naming a bad field, 403 for anyone but an admin; the CLI's keys are listed too.
#include "tests/e2e/ci_api.hpp"
#include "tests/support/automation_api.hpp"

#include <chrono>
#include <thread>

using namespace tether;
using namespace tether::e2e;

namespace {

testing::TetherStack& keys_stack() {
  testing::StackOptions options;
  options.agents = 0;
  return shared_stack(options);
}

http::Response call(testing::TetherStack& stack, const std::string& key, std::string_view method,
                    const std::string& target, const std::string& body = {}) {
  return stack.client().request(method, target, body, {http::bearer(key), {"Content-Type", "application/json"}});
}

// POST /api/admin/api-keys with the stack's admin key → the 201 answer.
boost::json::object create_key(testing::TetherStack& stack, const boost::json::object& body) {
  const auto response = stack.admin("POST", "/api/admin/api-keys", boost::json::serialize(body));
  INFO(describe(response));
  REQUIRE(response.status == 201);
  return json_object(response);
}

// GET /api/admin/api-keys: the key whose id is `id`, or an empty object.
boost::json::object listed(testing::TetherStack& stack, const std::string& id, std::string* body = nullptr) {
  const auto response = stack.admin("GET", "/api/admin/api-keys");
  INFO(describe(response));
  REQUIRE(response.status == 200);
  if (body) *body = response.body;
  const auto keys = boost::json::parse(response.body);  // kept alive while it is walked
  for (const auto& key : keys.as_array()) {
    if (key.as_object().at("id") == boost::json::value(id)) return key.as_object();
  }
  return {};
}

}  // namespace

TEST_CASE("an admin creates a key with a role: its secret is shown once and it acts with that role",
          "[e2e][api_keys]") {
  auto& stack = keys_stack();
  const auto created = create_key(stack, {{"name", "report-bot"}, {"role", "viewer"}});
  const auto secret = string_field(created, "key");
  const auto id = string_field(created, "id");
  CHECK(is_secret(secret, "tak_"));
  CHECK(ids::is_uuid(id));
  CHECK(string_field(created, "name") == "report-bot");
  CHECK(string_field(created, "role") == "viewer");
  CHECK(string_field(created, "prefix") == secret.substr(0, 12));
  CHECK(is_rfc3339_utc(created.at("created_at")));
  CHECK(created.at("expires_at").is_null());

  INFO("listed without the secret or its hash, with who made it");
  std::string list_body;
  const auto entry = listed(stack, id, &list_body);
  REQUIRE_FALSE(entry.empty());
  CHECK(list_body.find(secret) == std::string::npos);
  CHECK(list_body.find(secret.substr(12)) == std::string::npos);
  CHECK(list_body.find(crypto::sha256_hex(secret)) == std::string::npos);
  for (const auto* field : {"key", "key_hash", "hash", "secret"}) CHECK_FALSE(entry.contains(field));
  CHECK(string_field(entry, "role") == "viewer");
  CHECK(string_field(entry, "prefix") == secret.substr(0, 12));
  CHECK(string_field(entry, "created_by").rfind("api_key:", 0) == 0);
  CHECK(entry.at("revoked_at").is_null());
  CHECK(entry.contains("last_used_at"));

  INFO("the viewer key reads, and is refused what needs more");
  CHECK(call(stack, secret, "GET", "/api/servers").status == 200);
  check_error(call(stack, secret, "POST", "/api/servers", R"({"name":"not-by-a-viewer"})"), 403);
  check_error(call(stack, secret, "GET", "/api/admin/api-keys"), 403);

  INFO("an operator key does what an operator may, not what an admin may");
  const auto operator_created = create_key(stack, {{"name", "deploy-bot"}, {"role", "operator"}});
  const auto operator_key = string_field(operator_created, "key");
  const auto operator_id = string_field(operator_created, "id");
  const auto server_id = string_field(stack.create_server("keys-web-1"), "id");
  const auto patched = call(stack, operator_key, "PATCH", "/api/servers/" + server_id, R"({"tags":["web"]})");
  INFO(describe(patched));
  CHECK(patched.status == 200);
  check_error(call(stack, operator_key, "POST", "/api/admin/api-keys", R"({"name":"x","role":"admin"})"), 403);
  check_error(call(stack, operator_key, "DELETE", "/api/admin/api-keys/" + id), 403);
  INFO("a key's use that changes something is its last use");
  CHECK(is_rfc3339_utc(listed(stack, operator_id).at("last_used_at")));
}

TEST_CASE("a revoked key is refused at once, keeps its row, and revoking again keeps the first time",
          "[e2e][api_keys]") {
  auto& stack = keys_stack();
  const auto created = create_key(stack, {{"name", "short-lived"}, {"role", "admin"}});
  const auto secret = string_field(created, "key");
  const auto id = string_field(created, "id");
  CHECK(call(stack, secret, "GET", "/api/admin/api-keys").status == 200);

  const auto revoked = stack.admin("DELETE", "/api/admin/api-keys/" + id);
  INFO(describe(revoked));
  REQUIRE(revoked.status == 200);
  const auto answer = json_object(revoked);
  CHECK(string_field(answer, "status") == "ok");
  const auto revoked_at = string_field(answer, "revoked_at");
  check_error(call(stack, secret, "GET", "/api/servers"), 401);
  check_error(call(stack, secret, "GET", "/api/admin/api-keys"), 401);

  const auto entry = listed(stack, id);
  REQUIRE_FALSE(entry.empty());
  CHECK(string_field(entry, "revoked_at") == revoked_at);
  const auto again = stack.admin("DELETE", "/api/admin/api-keys/" + id);
  REQUIRE(again.status == 200);
  CHECK(string_field(json_object(again), "revoked_at") == revoked_at);

  check_error(stack.admin("DELETE", "/api/admin/api-keys/" + ids::new_uuid()), 404);
  check_error(stack.admin("DELETE", "/api/admin/api-keys/not-a-uuid"), 404);
}

TEST_CASE("a key past its expires_at is refused", "[e2e][api_keys]") {
  auto& stack = keys_stack();
  const auto expires = std::chrono::system_clock::now() + std::chrono::seconds(2);
  const auto created = create_key(stack, {{"name", "expiring"}, {"role", "viewer"}, {"expires_at", testing::rfc3339(expires)}});
  const auto secret = string_field(created, "key");
  CHECK(is_rfc3339_utc(created.at("expires_at")));
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  check_error(call(stack, secret, "GET", "/api/servers"), 401);
}

TEST_CASE("bad input is 422 naming the field; no token is 401", "[e2e][api_keys]") {
  auto& stack = keys_stack();
  const auto names_field = [&](const std::string& body, const std::string& field) {
    const auto response = stack.admin("POST", "/api/admin/api-keys", body);
    check_error(response, 422);
    INFO(describe(response));
    CHECK(string_field(json_object(response), "detail").rfind(field, 0) == 0);
  };
  names_field(R"({"name":"x","role":"root"})", "role");
  names_field(R"({"name":"x"})", "role");
  names_field(R"({"name":"","role":"viewer"})", "name");
  names_field(R"({"role":"viewer"})", "name");
  names_field(R"({"name":"x","role":"viewer","expires_at":"tomorrow"})", "expires_at");
  names_field(R"({"name":"x","role":"viewer","expires_at":"2001-01-01T00:00:00Z"})", "expires_at");
  check_error(stack.client().get("/api/admin/api-keys"), 401);
}

TEST_CASE("keys made by `tether-controller admin create-key` are listed, made by cli, and revoked the same way",
          "[e2e][api_keys]") {
  auto& stack = keys_stack();
  const auto secret = testing::create_operator_key(stack.database(), "from-the-cli", "operator");
  std::string id;
  const auto response = stack.admin("GET", "/api/admin/api-keys");
  REQUIRE(response.status == 200);
  const auto keys = boost::json::parse(response.body);  // kept alive while it is walked
  for (const auto& key : keys.as_array()) {
    const auto& object = key.as_object();
    if (object.at("name") != "from-the-cli") continue;
    id = string_field(object, "id");
    CHECK(string_field(object, "created_by") == "cli");
    CHECK(string_field(object, "role") == "operator");
    CHECK(string_field(object, "prefix") == secret.substr(0, 12));
  }
  REQUIRE_FALSE(id.empty());
  CHECK(call(stack, secret, "GET", "/api/servers").status == 200);
  REQUIRE(stack.admin("DELETE", "/api/admin/api-keys/" + id).status == 200);
  check_error(call(stack, secret, "GET", "/api/servers"), 401);
}
