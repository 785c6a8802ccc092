// Issue 4, point 6: POST /api/operations/{id}/cancel (operators) and
// POST /api/automation/v1/operations/{id}/cancel (keys with the server in scope) stop the
// command's process group; the operation ends canceled (v1: failed, with an error saying so).
#include "tests/e2e/reliability/operations.hpp"
#include "tests/e2e/reliability/process_groups.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#ifndef TETHER_CONTROLLER_BINARY
#error "TETHER_CONTROLLER_BINARY must name the tether-controller executable"
#endif

using namespace tether;
using namespace tether::reliability;

namespace {

testing::TetherStack& stack_with_short_sync_wait() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  return e2e::shared_stack(options);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

struct RunningSleep {
  std::string operation_id;
  pid_t pgid;
};

// `sleep 60` whose shell writes its pid (the group's id) first; returns once it runs.
RunningSleep start_sleep(testing::TetherStack& stack, const std::string& automation_key, GroupCleanup& cleanup) {
  static int started = 0;
  const auto pid_file = stack.dir() / fmt::format("sleep-{}.pid", ++started);
  const auto operation_id = start_running_command(
      stack, automation_key, fmt::format("echo $$ > {}; sleep 60", testing::shell_quote(pid_file.string())));
  const auto pgid = wait_for_pid_file(pid_file, std::chrono::seconds(20));
  REQUIRE(pgid);
  cleanup.watch(*pgid);
  REQUIRE_FALSE(live_group_members(*pgid).empty());
  return {operation_id, *pgid};
}

http::Response operator_cancel(testing::TetherStack& stack, const std::string& operation_id) {
  return stack.admin("POST", "/api/operations/" + operation_id + "/cancel");
}

http::Response v1_cancel(testing::TetherStack& stack, const std::string& automation_key,
                         const std::string& operation_id) {
  auto client = stack.client();
  return client.post("/api/automation/v1/operations/" + operation_id + "/cancel", "",
                     {http::bearer(automation_key)});
}

void check_accepted(const http::Response& response, const std::string& operation_id) {
  INFO(testing::describe(response));
  REQUIRE(response.status == 202);
  const auto body = e2e::json_object(response);
  CHECK(e2e::string_field(body, "operation_id") == operation_id);
  CHECK(body.contains("status"));
  REQUIRE(body.contains("cancel_requested"));
  CHECK(body.at("cancel_requested") == true);
}

// The operation ended canceled in both views and its processes are gone.
void check_canceled(testing::TetherStack& stack, const std::string& automation_key, const RunningSleep& sleep) {
  const auto operation = wait_until_ended(stack, sleep.operation_id, std::chrono::seconds(60));
  INFO(boost::json::serialize(operation) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(operation, "status") == "failed");
  CHECK(e2e::string_field(operation, "status_detail") == "canceled");

  auto client = stack.client();
  const auto v1 = e2e::json_object(testing::get_operation(client, automation_key, sleep.operation_id));
  INFO("v1 view: " << boost::json::serialize(v1));
  CHECK(e2e::string_field(v1, "status") == "failed");
  CHECK(lower(e2e::string_field(v1, "error")).find("cancel") != std::string::npos);

  const bool group_gone =
      testing::wait_until([&] { return live_group_members(sleep.pgid).empty(); }, std::chrono::seconds(20));
  INFO("process group " << sleep.pgid << " still has live processes");
  CHECK(group_gone);
}

}  // namespace

TEST_CASE("an operator's cancel stops the command's process group and the operation ends canceled",
          "[e2e][reliability][cancel]") {
  auto& stack = stack_with_short_sync_wait();
  const auto key = stack.create_automation_key();
  GroupCleanup cleanup;
  const auto sleep = start_sleep(stack, key.key, cleanup);

  check_accepted(operator_cancel(stack, sleep.operation_id), sleep.operation_id);
  check_canceled(stack, key.key, sleep);

  // An operation that has ended cannot be canceled again, by either route.
  e2e::check_error(operator_cancel(stack, sleep.operation_id), 409);
  e2e::check_error(v1_cancel(stack, key.key, sleep.operation_id), 409);
}

TEST_CASE("an automation key's cancel stops the command's process group; v1 shows failed, saying canceled",
          "[e2e][reliability][cancel]") {
  auto& stack = stack_with_short_sync_wait();
  const auto key = stack.create_automation_key(
      {.name = "canceller", .allowed_server_ids = {stack.server_id()}, .allowed_operations = {"exec"}});
  GroupCleanup cleanup;
  const auto sleep = start_sleep(stack, key.key, cleanup);

  check_accepted(v1_cancel(stack, key.key, sleep.operation_id), sleep.operation_id);
  check_canceled(stack, key.key, sleep);

  e2e::check_error(v1_cancel(stack, key.key, sleep.operation_id), 409);
  e2e::check_error(operator_cancel(stack, sleep.operation_id), 409);
}

TEST_CASE("cancel of an unknown operation answers 404 on both routes", "[e2e][reliability][cancel]") {
  auto& stack = stack_with_short_sync_wait();
  const auto key = stack.create_automation_key();
  const auto unknown = ids::new_uuid();
  e2e::check_error(operator_cancel(stack, unknown), 404);
  e2e::check_error(v1_cancel(stack, key.key, unknown), 404);
}

TEST_CASE("cancel is refused to a key without the server in scope and to a viewer, and the command goes on",
          "[e2e][reliability][cancel]") {
  auto& stack = stack_with_short_sync_wait();
  const auto owner = stack.create_automation_key();
  const auto other_server = stack.create_server("cancel-other-server");
  const auto outsider = stack.create_automation_key(
      {.name = "outsider", .allowed_server_ids = {e2e::string_field(other_server, "id")}});

  const auto viewer_key = testing::run_command({TETHER_CONTROLLER_BINARY, "admin", "create-key", "--name", "viewer",
                                                "--role", "viewer", "--database-url", stack.database().url()},
                                               std::chrono::seconds(60), {}, {"TETHER_"});
  INFO(viewer_key.err);
  REQUIRE(viewer_key.succeeded());
  std::string viewer = viewer_key.out;
  while (!viewer.empty() && viewer.back() == '\n') viewer.pop_back();
  REQUIRE(e2e::is_secret(viewer, "tak_"));

  GroupCleanup cleanup;
  const auto sleep = start_sleep(stack, owner.key, cleanup);

  e2e::check_error(v1_cancel(stack, outsider.key, sleep.operation_id), 403);
  auto client = stack.client();
  e2e::check_error(client.post("/api/operations/" + sleep.operation_id + "/cancel", "", {http::bearer(viewer)}), 403);

  // Neither refusal touched the command.
  const auto operation = e2e::json_object(stack.admin("GET", "/api/operations/" + sleep.operation_id));
  CHECK(e2e::string_field(operation, "status") == "running");
  CHECK_FALSE(live_group_members(sleep.pgid).empty());

  check_accepted(v1_cancel(stack, owner.key, sleep.operation_id), sleep.operation_id);
  check_canceled(stack, owner.key, sleep);
}
