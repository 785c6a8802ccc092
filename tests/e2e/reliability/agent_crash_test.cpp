// Issue 4, points 3 and 8: the agent is killed (-9) while a command runs. When it starts again it
// finds the operation in its journal, kills the orphaned process group and reports the operation
// `failed` with an error saying the agent restarted; nothing keeps running.
#include "tests/e2e/reliability/operations.hpp"
#include "tests/e2e/reliability/process_groups.hpp"

#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

using namespace tether;
using namespace tether::reliability;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

TEST_CASE("an operation whose agent was killed mid-command ends failed once the agent is back, its processes gone",
          "[e2e][reliability][agent-crash]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();
  GroupCleanup cleanup;

  // Far longer than the test: a group that disappears did not just finish its sleep.
  const auto pid_file = stack.dir() / "command.pid";
  const auto operation_id = start_running_command(
      stack, key.key, fmt::format("echo $$ > {}; sleep 300", testing::shell_quote(pid_file.string())), 600);
  const auto pgid = wait_for_pid_file(pid_file, std::chrono::seconds(20));
  REQUIRE(pgid);
  cleanup.watch(*pgid);
  REQUIRE_FALSE(live_group_members(*pgid).empty());

  stack.stop_agent(0, SIGKILL);
  // Killing the agent does not kill its command: the group is orphaned, and only the agent's
  // journal remembers it.
  CHECK_FALSE(live_group_members(*pgid).empty());
  const auto while_away = stack.admin("GET", "/api/operations/" + operation_id);
  REQUIRE(while_away.status == 200);
  CHECK(e2e::string_field(e2e::json_object(while_away), "status") == "running");

  stack.start_agent(0);
  const auto operation = wait_until_ended(stack, operation_id, std::chrono::seconds(60));
  INFO(boost::json::serialize(operation) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(operation, "status") == "failed");
  CHECK(e2e::string_field(operation, "status_detail") == "failed");
  const auto error = e2e::string_field(operation, "error");
  CHECK(lower(error).find("agent") != std::string::npos);
  CHECK(lower(error).find("restart") != std::string::npos);

  // The v1 view carries the same error.
  auto client = stack.client();
  const auto v1 = e2e::json_object(testing::get_operation(client, key.key, operation_id));
  CHECK(e2e::string_field(v1, "status") == "failed");
  INFO("v1 view: " << boost::json::serialize(v1));
  CHECK(lower(e2e::string_field(v1, "error")).find("restart") != std::string::npos);

  const bool group_gone =
      testing::wait_until([&] { return live_group_members(*pgid).empty(); }, std::chrono::seconds(20));
  INFO("process group " << *pgid << " still has " << live_group_members(*pgid).size() << " live processes");
  CHECK(group_gone);
}
