// What README.md and proto/PROTOCOL.md promise for an operation whose agent is away: it waits as
// `queued`, is delivered when the agent connects, fails with a clear error when the agent does not
// connect before the operation's timeout, is canceled at once when asked, and a cancel asked while
// the agent is disconnected reaches the agent when it reconnects.
#include "tests/e2e/reliability/operations.hpp"
#include "tests/e2e/reliability/process_groups.hpp"

#include "tests/support/net.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <thread>

using namespace tether;
using namespace tether::reliability;
using namespace std::chrono_literals;

namespace {

testing::StackOptions capped_sync_wait() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  return options;
}

boost::json::object operator_view(testing::TetherStack& stack, const std::string& operation_id) {
  const auto response = stack.admin("GET", "/api/operations/" + operation_id);
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  return e2e::json_object(response);
}

bool connected(testing::TetherStack& stack) {
  const auto server = stack.get_server(stack.server_id());
  const auto* flag = server.if_contains("connected");
  return flag != nullptr && flag->is_bool() && flag->as_bool();
}

// Stops the agent and waits until the controller has noticed that its socket is gone.
void send_agent_away(testing::TetherStack& stack) {
  stack.stop_agent(0);
  REQUIRE(testing::wait_until([&] { return !connected(stack); }, 20s));
}

// POST /exec while the agent is away: answered "running" once the sync wait is over; the
// operation waits as `queued`.
std::string exec_while_away(testing::TetherStack& stack, const std::string& key, const std::string& command,
                            int timeout_seconds = 60) {
  auto client = stack.client();
  auto body = e2e::exec_body(stack.server_id(), command);
  body["timeout_seconds"] = timeout_seconds;
  const auto response = testing::exec(client, key, body);
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  const auto answer = e2e::json_object(response);
  REQUIRE(e2e::string_field(answer, "status") == "running");
  const std::string operation_id = e2e::string_field(answer, "operation_id");
  const auto view = operator_view(stack, operation_id);
  CHECK(e2e::string_field(view, "status") == "running");
  CHECK(e2e::string_field(view, "status_detail") == "queued");
  return operation_id;
}

// The agent runs, is connected and has run every operation handed to it before this one: a
// synchronous exec ends after the agent took the dispatches that were delivered before it.
void check_agent_caught_up(testing::TetherStack& stack, const std::string& key) {
  wait_until_connected(stack, 0, 30s);
  auto client = stack.client();
  auto body = e2e::exec_body(stack.server_id(), "echo caught-up");
  const auto response = testing::exec(client, key, body);
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  CHECK(e2e::string_field(e2e::json_object(response), "status") == "completed");
}

}  // namespace

TEST_CASE("an operation for a server whose agent is away waits queued and runs when the agent connects",
          "[e2e][reliability][queued]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, capped_sync_wait());
  const auto key = stack.create_automation_key();
  send_agent_away(stack);

  const auto operation_id = exec_while_away(stack, key.key, "echo delivered");
  // Still queued a while later: nothing runs it without its agent.
  std::this_thread::sleep_for(1s);
  CHECK(e2e::string_field(operator_view(stack, operation_id), "status_detail") == "queued");

  stack.start_agent(0);
  const auto ended = wait_until_ended(stack, operation_id, 30s);
  INFO(boost::json::serialize(ended) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(ended, "status") == "completed");
  REQUIRE(ended.at("result").is_object());
  CHECK(e2e::string_field(ended.at("result").as_object(), "stdout") == "delivered\n");
}

TEST_CASE("a queued operation whose agent does not connect before its timeout fails saying so and never runs",
          "[e2e][reliability][queued]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, capped_sync_wait());
  const auto key = stack.create_automation_key();
  send_agent_away(stack);
  const auto marker = stack.dir() / "late-run";

  const auto operation_id = exec_while_away(stack, key.key, "touch " + testing::shell_quote(marker.string()), 2);
  const auto ended = wait_until_ended(stack, operation_id, 30s);
  INFO(boost::json::serialize(ended));
  CHECK(e2e::string_field(ended, "status") == "failed");
  CHECK_THAT(e2e::string_field(ended, "error"), Catch::Contains("did not connect"));
  auto client = stack.client();
  const auto v1 = e2e::json_object(testing::get_operation(client, key.key, operation_id));
  CHECK(e2e::string_field(v1, "status") == "failed");
  CHECK_THAT(e2e::string_field(v1, "error"), Catch::Contains("did not connect"));

  stack.start_agent(0);
  check_agent_caught_up(stack, key.key);
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("a queued operation is canceled at once, without its agent, and never runs", "[e2e][reliability][queued]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, capped_sync_wait());
  const auto key = stack.create_automation_key();
  send_agent_away(stack);
  const auto marker = stack.dir() / "canceled-run";

  const auto operation_id = exec_while_away(stack, key.key, "touch " + testing::shell_quote(marker.string()));
  auto client = stack.client();
  const auto canceled = client.post("/api/automation/v1/operations/" + operation_id + "/cancel", "",
                                    {http::bearer(key.key)});
  INFO(testing::describe(canceled));
  REQUIRE(canceled.status == 202);
  // Ended by the cancel itself: the very next read shows it, with no agent involved.
  const auto view = operator_view(stack, operation_id);
  INFO(boost::json::serialize(view));
  CHECK(e2e::string_field(view, "status") == "failed");
  CHECK(e2e::string_field(view, "status_detail") == "canceled");
  CHECK(stack.admin("POST", "/api/operations/" + operation_id + "/cancel").status == 409);

  stack.start_agent(0);
  check_agent_caught_up(stack, key.key);
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(e2e::string_field(operator_view(stack, operation_id), "status_detail") == "canceled");
}

TEST_CASE("a cancel asked while the agent is disconnected reaches the agent when it reconnects",
          "[e2e][reliability][queued][cancel]") {
  // The agent dials a proxy that the test can cut, so the agent (and its command) stay up while
  // the controller cannot reach it.
  testing::TestDatabase database;
  const auto controller_port = testing::free_loopback_port();
  testing::TcpProxy proxy(controller_port);
  auto options = capped_sync_wait();
  options.controller_port = controller_port;
  options.agent_controller_port = proxy.port();
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();

  GroupCleanup cleanup;
  const auto pid_file = stack.dir() / "sleep.pid";
  const auto operation_id =
      start_running_command(stack, key.key, fmt::format("echo $$ > {}; sleep 60", testing::shell_quote(pid_file.string())));
  const auto pgid = wait_for_pid_file(pid_file, 20s);
  REQUIRE(pgid);
  cleanup.watch(*pgid);

  proxy.refuse(true);
  proxy.cut();
  REQUIRE(testing::wait_until([&] { return !connected(stack); }, 20s));

  const auto response = stack.admin("POST", "/api/operations/" + operation_id + "/cancel");
  INFO(testing::describe(response));
  REQUIRE(response.status == 202);
  // The agent cannot have heard of it: the command goes on.
  std::this_thread::sleep_for(1s);
  CHECK_FALSE(live_group_members(*pgid).empty());
  CHECK(e2e::string_field(operator_view(stack, operation_id), "status") == "running");

  proxy.refuse(false);
  const auto ended = wait_until_ended(stack, operation_id, 60s);
  INFO(boost::json::serialize(ended) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(ended, "status_detail") == "canceled");
  CHECK(testing::wait_until([&] { return live_group_members(*pgid).empty(); }, 20s));
}
