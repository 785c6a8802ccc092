// Key scopes on every v1 operation: operations, servers and registry credentials (403), and
// expiry (401), on submissions and on reads (poll, stream, cancel) alike. Each denial is paired
// with the same request by a key whose scope allows it, so a check that is missing or denies
// everything both fail here.
#include "tests/e2e/ci_api.hpp"

#include "common/time.hpp"
#include "tests/support/recording_runtime.hpp"

#include <thread>

using namespace tether;
using namespace tether::e2e;

namespace {

const std::vector<std::string> all_operations{"exec",   "deploy",         "restart",
                                              "reboot", "registry_login", "registry_logout"};

struct ScopeStack {
  testing::TestDatabase database;
  testing::TempDir runtime_dir{"tether-runtime"};
  testing::RecordingRuntime runtime{runtime_dir.path()};
  testing::TetherStack stack;
  std::string server_a, server_b;
  std::string application_a, application_b;  // one application on each server
  std::string credential_1, credential_2;

  ScopeStack() : stack(database, options(runtime)) {
    server_a = stack.agent(0).server_id;
    server_b = stack.agent(1).server_id;
    // The checkouts need not exist: these tests are about who may start a deploy, not its outcome.
    application_a = string_field(
        admin_post(stack, "/api/applications", {{"name", "app-a"}, {"server_id", server_a}, {"directory", "/srv/a"}}),
        "id");
    application_b = string_field(
        admin_post(stack, "/api/applications", {{"name", "app-b"}, {"server_id", server_b}, {"directory", "/srv/b"}}),
        "id");
    credential_1 = string_field(
        create_registry_credential(stack, "one", "ghcr.io", "ghcr", "bot", new_registry_password()), "id");
    credential_2 = string_field(
        create_registry_credential(stack, "two", "registry.example", "generic", "bot", new_registry_password()), "id");
  }

  static testing::StackOptions options(const testing::RecordingRuntime& runtime) {
    testing::StackOptions out;
    out.agents = 2;
    out.master_key = true;
    out.container_runtime = runtime.path().string();
    // The fixture's reboot command only prints and exits 99: a permitted reboot stays harmless.
    return out;
  }

  // The v1 request of `operation` aimed at `server` (A or B), and the status that accepts it.
  struct Request {
    std::string path;
    boost::json::object body;
    unsigned accepted_status;
  };
  Request request_for(const std::string& operation, const std::string& server) const {
    const std::string& application = server == server_a ? application_a : application_b;
    if (operation == "exec") return {"/exec", {{"server_id", server}, {"command", "true"}}, 200};
    if (operation == "deploy") return {"/deploy", {{"application_id", application}}, 200};
    if (operation == "restart") return {"/restart", restart_body(server, "web"), 200};
    if (operation == "reboot") return {"/reboot", {{"server_id", server}}, 200};
    if (operation == "registry_login") return {"/registry-auth/login", login_body(server, credential_1), 202};
    if (operation == "registry_logout") {
      return {"/registry-auth/logout", {{"server_id", server}, {"registry_url", "ghcr.io"}}, 200};
    }
    throw std::invalid_argument("unknown operation " + operation);
  }

  http::Response send(const testing::AutomationKey& key, const Request& request) {
    auto client = stack.client();
    return testing::v1_post(client, key.key, request.path, request.body);
  }
};

ScopeStack& scope_stack() {
  static ScopeStack shared;
  return shared;
}

std::vector<std::string> all_but(const std::string& operation) {
  std::vector<std::string> out;
  for (const auto& candidate : all_operations) {
    if (candidate != operation) out.push_back(candidate);
  }
  return out;
}

std::string detail_of(const http::Response& response) {
  const auto body = json_object(response);
  const auto* detail = body.if_contains("detail");
  return detail && detail->is_string() ? std::string(detail->as_string()) : std::string();
}

}  // namespace

TEST_CASE("each operation is refused with 403 naming it when the key's operations exclude it, and allowed when they "
          "include it",
          "[e2e][scope][403]") {
  auto& fixture = scope_stack();
  for (const std::string operation : {"deploy", "restart", "reboot", "registry_login", "registry_logout"}) {
    INFO("operation " << operation);
    const auto request = fixture.request_for(operation, fixture.server_a);

    testing::AutomationKeySpec excluded;
    excluded.name = "without-" + operation;
    excluded.allowed_operations = all_but(operation);
    const auto refused = fixture.send(fixture.stack.create_automation_key(excluded), request);
    check_error(refused, 403);
    CHECK(detail_of(refused).find(operation) != std::string::npos);

    testing::AutomationKeySpec only;
    only.name = "only-" + operation;
    only.allowed_operations = {operation};
    const auto accepted = fixture.send(fixture.stack.create_automation_key(only), request);
    INFO(describe(accepted));
    CHECK(accepted.status == request.accepted_status);
  }
}

TEST_CASE("each operation on a server outside the key's servers is refused with 403; on an allowed server it runs",
          "[e2e][scope][403]") {
  auto& fixture = scope_stack();
  testing::AutomationKeySpec spec;
  spec.name = "server-b-only";
  spec.allowed_server_ids = {fixture.server_b};
  const auto key = fixture.stack.create_automation_key(spec);
  for (const std::string operation : {"deploy", "restart", "reboot", "registry_login", "registry_logout"}) {
    INFO("operation " << operation);
    check_error(fixture.send(key, fixture.request_for(operation, fixture.server_a)), 403);
    const auto allowed = fixture.request_for(operation, fixture.server_b);
    const auto accepted = fixture.send(key, allowed);
    INFO(describe(accepted));
    CHECK(accepted.status == allowed.accepted_status);
  }
}

TEST_CASE("registry login with a credential outside the key's allowed_credential_ids is refused with 403",
          "[e2e][scope][403][registry]") {
  auto& fixture = scope_stack();
  auto client = fixture.stack.client();
  testing::AutomationKeySpec spec;
  spec.name = "credential-1-only";
  spec.allowed_credential_ids = std::vector<std::string>{fixture.credential_1};
  const auto scoped = fixture.stack.create_automation_key(spec);
  CHECK(strings_of(array_field(scoped.created, "allowed_credential_ids")) ==
        std::vector<std::string>{fixture.credential_1});

  fixture.runtime.clear();
  check_error(testing::v1_post(client, scoped.key, "/registry-auth/login",
                               login_body(fixture.server_a, fixture.credential_2)),
              403);
  const auto allowed =
      testing::v1_post(client, scoped.key, "/registry-auth/login", login_body(fixture.server_a, fixture.credential_1));
  INFO(describe(allowed));
  CHECK(allowed.status == 202);

  INFO("a key without allowed_credential_ids may use every credential");
  const auto unscoped = fixture.stack.create_automation_key();
  const auto any =
      testing::v1_post(client, unscoped.key, "/registry-auth/login", login_body(fixture.server_a, fixture.credential_2));
  INFO(describe(any));
  CHECK(any.status == 202);
}

TEST_CASE("a key naming a registry credential that does not exist is refused with 422, at creation and by PATCH",
          "[e2e][scope][422][registry]") {
  auto& fixture = scope_stack();
  auto& stack = fixture.stack;
  const auto response = stack.admin(
      "POST", "/api/automation-keys",
      boost::json::serialize(boost::json::object{{"name", "bad-credential"},
                                                 {"allowed_server_ids", boost::json::array{}},
                                                 {"allowed_operations", boost::json::array{}},
                                                 {"allowed_credential_ids", boost::json::array{ids::new_uuid()}}}));
  check_error(response, 422);

  const auto key = stack.create_automation_key();
  check_error(stack.admin("PATCH", "/api/automation-keys/" + key.id,
                          boost::json::serialize(
                              boost::json::object{{"allowed_credential_ids", boost::json::array{ids::new_uuid()}}})),
              422);
}

TEST_CASE("PATCH of a key's scopes takes effect on its next request", "[e2e][scope][403]") {
  auto& fixture = scope_stack();
  auto& stack = fixture.stack;
  const auto key = stack.create_automation_key();
  const auto restart = fixture.request_for("restart", fixture.server_a);
  const auto before = fixture.send(key, restart);
  INFO(describe(before));
  CHECK(before.status == 200);

  const auto patched = admin_patch(stack, "/api/automation-keys/" + key.id,
                                   {{"allowed_operations", boost::json::array{"exec"}},
                                    {"allowed_server_ids", boost::json::array{fixture.server_b}}});
  CHECK(strings_of(array_field(patched, "allowed_operations")) == std::vector<std::string>{"exec"});
  check_error(fixture.send(key, restart), 403);
}

TEST_CASE("an expired key is refused with 401 by every v1 operation", "[e2e][scope][401]") {
  auto& fixture = scope_stack();
  testing::AutomationKeySpec spec;
  spec.name = "expires-soon";
  // A whole second, so that the RFC 3339 text (whole seconds) keeps all of the 5 s before it:
  // room for the first call on a loaded machine.
  const auto expiry = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + std::chrono::seconds(5);
  spec.expires_at = timeutil::format_utc(expiry);
  const auto key = fixture.stack.create_automation_key(spec);
  const auto restart = fixture.request_for("restart", fixture.server_a);
  const auto before = fixture.send(key, restart);
  INFO(describe(before));
  REQUIRE(before.status == 200);

  std::this_thread::sleep_until(expiry + std::chrono::milliseconds(200));
  for (const auto& operation : all_operations) {
    INFO("operation " << operation);
    const auto refused = fixture.send(key, fixture.request_for(operation, fixture.server_a));
    check_error(refused, 401);
    CHECK(detail_of(refused).find("expired") != std::string::npos);
  }
}

TEST_CASE("a key whose operations exclude deploy may not poll, stream or cancel a deploy (403); a key allowed deploy "
          "may",
          "[e2e][scope][403]") {
  auto& fixture = scope_stack();
  auto& stack = fixture.stack;
  auto client = stack.client();
  const auto full = stack.create_automation_key();
  const auto deployed = fixture.send(full, fixture.request_for("deploy", fixture.server_a));
  INFO(describe(deployed));
  REQUIRE(deployed.status == 200);
  const auto deploy_id = string_field(json_object(deployed), "operation_id");

  testing::AutomationKeySpec exec_spec;
  exec_spec.name = "exec-only-reader";
  exec_spec.allowed_operations = {"exec"};
  const auto exec_only = stack.create_automation_key(exec_spec);
  testing::AutomationKeySpec deploy_spec;
  deploy_spec.name = "deploy-only-reader";
  deploy_spec.allowed_operations = {"deploy"};
  const auto deploy_only = stack.create_automation_key(deploy_spec);

  const std::string operation = "/api/automation/v1/operations/" + deploy_id;
  SECTION("poll") {
    const auto refused = testing::get_operation(client, exec_only.key, deploy_id);
    check_error(refused, 403);
    CHECK(detail_of(refused).find("deploy") != std::string::npos);
    const auto allowed = testing::get_operation(client, deploy_only.key, deploy_id);
    INFO(describe(allowed));
    CHECK(allowed.status == 200);
  }
  SECTION("stream") {
    check_error(client.get(operation + "/stream", {http::bearer(exec_only.key)}), 403);
    // The deploy ends (its checkout does not exist), so an admitted stream replays it and ends.
    const auto allowed = client.get(operation + "/stream", {http::bearer(deploy_only.key)});
    INFO(describe(allowed));
    CHECK(allowed.status == 200);
  }
  SECTION("cancel") {
    check_error(client.post(operation + "/cancel", "", {http::bearer(exec_only.key)}), 403);
    const auto after = operator_operation(stack, deploy_id);
    INFO(boost::json::serialize(after));
    CHECK(string_field(after, "status_detail") != "canceled");
    // Admitted, the cancel is answered by the operation's state: 202, or 409 once it has ended.
    const auto allowed = client.post(operation + "/cancel", "", {http::bearer(deploy_only.key)});
    INFO(describe(allowed));
    CHECK((allowed.status == 202 || allowed.status == 409));
  }
}

TEST_CASE("an exec-only key still polls, streams and cancels its own execs", "[e2e][scope]") {
  auto& fixture = scope_stack();
  auto& stack = fixture.stack;
  auto client = stack.client();
  testing::AutomationKeySpec spec;
  spec.name = "exec-only-owner";
  spec.allowed_operations = {"exec"};
  const auto key = stack.create_automation_key(spec);
  const auto ran = testing::exec(client, key.key, exec_body(fixture.server_a, "echo mine"));
  INFO(describe(ran));
  REQUIRE(ran.status == 200);
  const auto id = string_field(json_object(ran), "operation_id");
  CHECK(testing::get_operation(client, key.key, id).status == 200);
  CHECK(client.get("/api/automation/v1/operations/" + id + "/stream", {http::bearer(key.key)}).status == 200);
  CHECK(client.post("/api/automation/v1/operations/" + id + "/cancel", "", {http::bearer(key.key)}).status == 409);
}
