// Restart: the agent runs `<container runtime> restart <name>` with exactly those arguments; the
// runtime here is a script that records them. Invalid names are refused before anything runs.
#include "tests/e2e/ci_api.hpp"

#include "tests/e2e/runtime_stack.hpp"

using namespace tether;
using namespace tether::e2e;

namespace {

RecordingRuntimeStack& restart_stack() {
  static RecordingRuntimeStack shared;
  return shared;
}

}  // namespace

TEST_CASE("restart runs `<runtime> restart <container_name>` with exactly those arguments and answers its result",
          "[e2e][restart]") {
  auto& fixture = restart_stack();
  auto& stack = fixture.stack;
  testing::AutomationKeySpec spec;
  spec.allowed_operations = {"restart"};
  const auto key = stack.create_automation_key(spec);
  auto client = stack.client();

  // The longest valid name (255 characters) passes too.
  for (const std::string& name : std::vector<std::string>{"web_app-1.blue", "9" + std::string(254, 'x')}) {
    INFO("container_name " << name);
    fixture.runtime.clear();
    auto body = restart_body(stack.server_id(), name);
    body["run_id"] = "restart-run";
    const auto response = testing::v1_post(client, key.key, "/restart", body);
    INFO(describe(response));
    REQUIRE(response.status == 200);
    auto answer = json_object(response);
    const std::string operation_id = string_field(answer, "operation_id");
    // Answered like exec: with the result when it ended within the sync wait (it ends at once).
    CHECK(string_field(answer, "status") == "completed");
    CHECK(int_field(answer, "exit_code") == 0);
    CHECK(string_field(answer, "stdout") == name + "\n");
    CHECK(fixture.runtime.arguments() == std::vector<std::string>{"restart", name});

    const auto polled = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(20));
    CHECK(string_field(polled, "operation_type") == "restart");
    CHECK(string_field(polled, "status") == "completed");
    CHECK(polled.at("run_id") == boost::json::value("restart-run"));
  }
}

TEST_CASE("restart with an invalid container name gets 422 and runs nothing", "[e2e][restart][422]") {
  auto& fixture = restart_stack();
  auto& stack = fixture.stack;
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  fixture.runtime.clear();

  const std::vector<std::string> invalid_names{"",         "-rm",        ".hidden", "_x",
                                               "two words", "a;reboot",   "a/b",     "$(id)",
                                               "name\n",   "caf\xc3\xa9", "a" + std::string(255, 'b')};
  for (const auto& name : invalid_names) {
    INFO("container_name '" << name << "'");
    check_error(testing::v1_post(client, key.key, "/restart", restart_body(stack.server_id(), name)), 422);
  }
  INFO("a missing or non-string container_name");
  check_error(testing::v1_post(client, key.key, "/restart", {{"server_id", stack.server_id()}}), 422);
  check_error(testing::v1_post(client, key.key, "/restart", {{"server_id", stack.server_id()}, {"container_name", 5}}),
              422);
  CHECK(fixture.runtime.arguments().empty());
}

TEST_CASE("restart on a server that does not exist gets 404", "[e2e][restart][404]") {
  auto& fixture = restart_stack();
  const auto key = fixture.stack.create_automation_key();
  auto client = fixture.stack.client();
  fixture.runtime.clear();
  check_error(testing::v1_post(client, key.key, "/restart", restart_body(ids::new_uuid(), "web")), 404);
  CHECK(fixture.runtime.arguments().empty());
}
