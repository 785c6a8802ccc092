// The sync wait: exec answers with the result when the command ends within
// min(timeout_seconds + 7 s, --sync-wait-cap-seconds), else with {"operation_id","status":"running"}.
#include "tests/e2e/e2e_checks.hpp"

#include <fstream>

using namespace tether;
using namespace tether::e2e;
using testing::exec;
using testing::get_operation;

namespace {
// 4 s: long enough that a 0.3 s command ends within it on a loaded machine, short enough that
// the command held back by a file below costs the test little.
testing::TetherStack& capped_stack() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 4;
  return shared_stack(options);
}
}  // namespace

TEST_CASE("a command that outlasts the sync wait answers running, and polling later gives its result",
          "[e2e][exec][slow]") {
  auto& stack = capped_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  // The command cannot end before the test releases it, so "running" is certain, however slow
  // the machine.
  const auto release = stack.dir() / "slow-release";
  const auto response =
      exec(client, key.key, exec_body(stack.server_id(), wait_for_file_snippet(release) + "; echo done"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "running");
  const std::string operation_id = string_field(body, "operation_id");
  REQUIRE(ids::is_uuid(operation_id));
  CHECK_FALSE(body.contains("exit_code"));
  CHECK_FALSE(body.contains("stdout"));

  const auto still_running = json_object(get_operation(client, key.key, operation_id));
  CHECK(string_field(still_running, "status") == "running");
  CHECK(still_running.at("completed_at").is_null());

  { std::ofstream touch(release); }
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  CHECK(string_field(finished, "status") == "completed");
  REQUIRE(finished.contains("result"));
  REQUIRE(finished.at("result").is_object());
  const auto& result = finished.at("result").as_object();
  CHECK(int_field(result, "exit_code") == 0);
  CHECK(string_field(result, "stdout") == "done\n");
  CHECK(string_field(result, "stderr") == "");
  CHECK(int_field(result, "duration_ms") > 0);
  CHECK(is_rfc3339_utc(finished.at("completed_at")));
}

TEST_CASE("a command that ends within the sync wait is answered with its result, not running",
          "[e2e][exec][slow]") {
  auto& stack = capped_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  const auto response = exec(client, key.key, exec_body(stack.server_id(), "sleep 0.3; echo late"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "completed");
  CHECK(string_field(body, "stdout") == "late\n");
  CHECK(int_field(body, "duration_ms") >= 300);
}
