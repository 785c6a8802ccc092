// Issue 4, points 1 and 8: a command keeps running while the controller is killed (-9) and
// restarted; the agent spools what nobody acknowledged and, after hello/welcome, resends only the
// gap, so the stored stdout is complete, in order and without duplicates.
#include "tests/e2e/reliability/operations.hpp"

#include <thread>

using namespace tether;
using namespace tether::reliability;

namespace {

testing::StackOptions capped_sync_wait() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  return options;
}

}  // namespace

TEST_CASE("output produced while the controller is killed and restarted is stored once each line, in order",
          "[e2e][reliability][controller-crash]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, capped_sync_wait());
  const auto key = stack.create_automation_key();

  const auto operation_id =
      start_running_command(stack, key.key, "for i in $(seq 1 50); do echo $i; sleep 0.1; done");

  stack.stop_controller(SIGKILL);
  // The command goes on printing with nobody to send to; that output must come from the spool.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stack.start_controller();

  const auto operation = wait_until_ended(stack, operation_id, std::chrono::seconds(60));
  INFO(boost::json::serialize(operation) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(operation, "status") == "completed");
  REQUIRE(operation.at("result").is_object());
  const auto& result = operation.at("result").as_object();
  CHECK(e2e::int_field(result, "exit_code") == 0);
  CHECK(e2e::string_field(result, "stdout") == numbered_lines(50));
  CHECK(e2e::string_field(result, "stderr") == "");

  // The v1 view of a key agrees with the operator's.
  auto client = stack.client();
  const auto v1 = testing::json_object(testing::get_operation(client, key.key, operation_id));
  CHECK(e2e::string_field(v1, "status") == "completed");
  CHECK(e2e::string_field(v1.at("result").as_object(), "stdout") == numbered_lines(50));
}

TEST_CASE("output survives two controller crashes during one command", "[e2e][reliability][controller-crash]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, capped_sync_wait());
  const auto key = stack.create_automation_key();

  const auto operation_id =
      start_running_command(stack, key.key, "for i in $(seq 1 80); do echo $i; sleep 0.1; done");

  for (int crash = 0; crash < 2; ++crash) {
    stack.stop_controller(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    stack.start_controller();
    // Let the agent reconnect and resend before the next crash cuts it off again.
    wait_until_connected(stack, 0, std::chrono::seconds(30));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  const auto operation = wait_until_ended(stack, operation_id, std::chrono::seconds(60));
  INFO(boost::json::serialize(operation) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(operation, "status") == "completed");
  REQUIRE(operation.at("result").is_object());
  CHECK(e2e::string_field(operation.at("result").as_object(), "stdout") == numbered_lines(80));
}
