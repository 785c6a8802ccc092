// Issue 4, points 4 and 8: PostgreSQL stops while a command runs. The controller stays up and
// answers 503 with a clear message; once PostgreSQL is back it reconnects by itself and stores
// the result the agent kept (unacknowledged) meanwhile.
//
// The test stops and starts a PostgreSQL server of its own: the shared one serves other tests.
#include "tests/e2e/reliability/operations.hpp"
#include "tests/e2e/reliability/throwaway_postgres.hpp"

#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <thread>

using namespace tether;
using namespace tether::reliability;

TEST_CASE("while PostgreSQL is down the controller answers 503 and stays up; the result is stored once it is back",
          "[e2e][reliability][postgres-outage]") {
  ThrowawayPostgres postgres;
  DatabaseServerOverride use_own_server(postgres.url());
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();

  // The marker says when the command is over (its stdout must stay just "done\n").
  const auto finished_marker = stack.dir() / "command-finished";
  const auto operation_id = start_running_command(
      stack, key.key, fmt::format("sleep 3; echo done; : > {}", testing::shell_quote(finished_marker.string())));

  postgres.stop();

  // Requests that need the database fail fast and say why, instead of hanging or crashing.
  http::Response answer;
  const bool unavailable = testing::wait_until(
      [&] {
        answer = stack.admin("GET", "/api/servers/" + stack.server_id());
        return answer.status == 503;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  INFO(testing::describe(answer) << "\n" << stack_logs(stack));
  REQUIRE(unavailable);
  const auto detail = e2e::string_field(e2e::json_object(answer), "detail");
  std::string detail_lower = detail;
  std::transform(detail_lower.begin(), detail_lower.end(), detail_lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  CHECK(detail_lower.find("database") != std::string::npos);

  // The v1 surface says the same.
  auto client = stack.client();
  const auto v1_answer = testing::get_operation(client, key.key, operation_id);
  e2e::check_error(v1_answer, 503);

  // The command ends during the outage; its result can only wait at the agent.
  const bool command_over = testing::wait_until([&] { return std::filesystem::exists(finished_marker); },
                                                std::chrono::seconds(30), std::chrono::milliseconds(50));
  REQUIRE(command_over);
  // Give the agent's `finished` the time to reach a controller that cannot store it.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  INFO(stack_logs(stack));
  REQUIRE(stack.controller().running());
  // The health check says the database is the trouble (503 takes the replica out of a balancer's
  // rotation), and still counts the agent whose socket stays open.
  const auto unhealthy = stack.admin("GET", "/api/health");
  INFO(testing::describe(unhealthy));
  CHECK(unhealthy.status == 503);
  const auto unhealthy_body = e2e::json_object(unhealthy);
  CHECK(e2e::string_field(unhealthy_body, "database") != "ok");
  CHECK(e2e::int_field(unhealthy_body, "agents_connected") == 1);

  postgres.start();

  const auto operation = wait_until_ended(stack, operation_id, std::chrono::seconds(90));
  INFO(boost::json::serialize(operation) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(operation, "status") == "completed");
  REQUIRE(operation.at("result").is_object());
  const auto& result = operation.at("result").as_object();
  CHECK(e2e::int_field(result, "exit_code") == 0);
  CHECK(e2e::string_field(result, "stdout") == "done\n");
  CHECK(stack.controller().running());

  const auto healthy = stack.admin("GET", "/api/health");
  INFO(testing::describe(healthy));
  CHECK(healthy.status == 200);
  const auto healthy_body = e2e::json_object(healthy);
  CHECK(e2e::string_field(healthy_body, "status") == "ok");
  CHECK(e2e::string_field(healthy_body, "database") == "ok");
  CHECK(e2e::int_field(healthy_body, "agents_connected") == 1);
  CHECK_FALSE(e2e::string_field(healthy_body, "version").empty());
  CHECK(e2e::int_field(healthy_body, "uptime_s") >= 0);

  // And the key's view works again without a restart.
  const auto v1 = e2e::json_object(testing::get_operation(client, key.key, operation_id));
  CHECK(e2e::string_field(v1, "status") == "completed");
}
