// 403 (server or operation outside the key's scope) and 404 (unknown server or operation).
#include "tests/e2e/e2e_checks.hpp"

using namespace tether;
using namespace tether::e2e;
using testing::exec;

TEST_CASE("a key scoped to other servers gets 403 for this server", "[e2e][v1][403]") {
  auto& stack = shared_stack();
  const auto other = stack.create_server("elsewhere");
  testing::AutomationKeySpec spec;
  spec.allowed_server_ids = {string_field(other, "id")};
  const auto key = stack.create_automation_key(spec);
  auto client = stack.client();
  check_v1_error(exec(client, key.key, exec_body(stack.server_id(), "echo no")), 403);
}

TEST_CASE("a key whose operations exclude exec gets 403 for exec", "[e2e][v1][403]") {
  auto& stack = shared_stack();
  testing::AutomationKeySpec spec;
  spec.allowed_operations = {"deploy", "restart"};
  const auto key = stack.create_automation_key(spec);
  auto client = stack.client();
  check_v1_error(exec(client, key.key, exec_body(stack.server_id(), "echo no")), 403);
}

TEST_CASE("a key scoped to this server and to exec may exec there", "[e2e][v1][403]") {
  auto& stack = shared_stack();
  const auto other = stack.create_server("also-allowed");
  testing::AutomationKeySpec spec;
  spec.allowed_server_ids = {string_field(other, "id"), stack.server_id()};
  spec.allowed_operations = {"exec"};
  const auto key = stack.create_automation_key(spec);
  auto client = stack.client();
  const auto response = exec(client, key.key, exec_body(stack.server_id(), "echo yes"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(string_field(json_object(response), "stdout") == "yes\n");
}

TEST_CASE("exec on a server id that does not exist gets 404", "[e2e][v1][404]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  check_v1_error(exec(client, key.key, exec_body(ids::new_uuid(), "echo no")), 404);
}

TEST_CASE("polling an operation id that does not exist gets 404", "[e2e][v1][404]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  check_v1_error(testing::get_operation(client, key.key, ids::new_uuid()), 404);
}
