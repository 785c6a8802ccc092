// Reboot: the agent runs its reboot command, and the operation completes when the agent comes back
// under a new boot id. The reboot command here is a script that does what a reboot does to the
// agent: the boot id (the agent's --boot-id-file) changes and the agent process is stopped. The
// test then starts the agent again, as the machine's init system would.
#include "tests/e2e/ci_api.hpp"

#include "tests/support/script_file.hpp"

#include <csignal>
#include <fstream>

using namespace tether;
using namespace tether::e2e;

namespace {

constexpr int refused_exit_code = 3;

// The script's behaviour is chosen per test by writing its mode file:
//   reboot    - new boot id, then stop the agent
//   same-boot - stop the agent, boot id unchanged (a "reboot" that did not happen)
//   fail      - exit 3 without touching anything (e.g. the reboot was refused)
struct RebootStack {
  testing::TestDatabase database;
  testing::TempDir script_dir{"tether-reboot"};
  std::filesystem::path mode_file = script_dir / "mode";
  std::filesystem::path script = script_dir / "reboot";
  testing::TetherStack stack;

  RebootStack() : stack(database, options(write_script(script, mode_file))) {}

  void set_mode(const std::string& mode) const { std::ofstream(mode_file, std::ios::trunc) << mode << "\n"; }

  static std::filesystem::path write_script(const std::filesystem::path& script, const std::filesystem::path& mode) {
    return testing::write_executable(script, fmt::format(R"sh(#!/bin/sh
set -e
: "${{E2E_AGENT_PID_FILE:?the agent did not pass its environment on}}"
: "${{E2E_BOOT_ID_FILE:?the agent did not pass its environment on}}"
case "$(cat {mode})" in
  reboot)
    cat /proc/sys/kernel/random/uuid > "$E2E_BOOT_ID_FILE.new"
    mv "$E2E_BOOT_ID_FILE.new" "$E2E_BOOT_ID_FILE" ;;
  same-boot) ;;
  fail) echo 'reboot refused' >&2; exit {refused} ;;
esac
kill -TERM "$(cat "$E2E_AGENT_PID_FILE")"
)sh",
                                                         fmt::arg("mode", testing::shell_quote(mode.string())),
                                                         fmt::arg("refused", refused_exit_code)));
  }

  static testing::StackOptions options(const std::filesystem::path& script) {
    testing::StackOptions out;
    out.reboot_command = script.string();
    out.boot_id_files = true;
    return out;
  }
};

RebootStack& reboot_stack() {
  static RebootStack shared;
  return shared;
}

std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string boot_id_in_file(testing::TetherStack& stack) { return trimmed(testing::read_file(stack.agent().boot_id_file)); }

// POST /reboot; returns the operation id of the "running" answer.
std::string start_reboot(testing::TetherStack& stack, http::Client& client, const std::string& key,
                         boost::json::object extra = {}) {
  boost::json::object body{{"server_id", stack.server_id()}};
  for (const auto& field : extra) body[field.key()] = field.value();
  const auto response = testing::v1_post(client, key, "/reboot", body);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  CHECK(answer.size() == 2);
  CHECK(string_field(answer, "status") == "running");
  return string_field(answer, "operation_id");
}

// The reboot command stops the agent by itself; the test only waits for that.
void wait_until_agent_stopped(testing::TetherStack& stack) {
  const auto ended = stack.wait_for_agent_exit(0, std::chrono::seconds(20));
  INFO("agent log:\n" << stack.agent_log());
  REQUIRE(ended.has_value());
}

void bring_agent_back(testing::TetherStack& stack) {
  stack.start_agent(0);
  stack.wait_for_server_status(stack.server_id(), "active");
}

std::string status_of(http::Client& client, const std::string& key, const std::string& operation_id) {
  const auto response = testing::get_operation(client, key, operation_id);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  return string_field(json_object(response), "status");
}

testing::AutomationKey reboot_key(testing::TetherStack& stack) {
  testing::AutomationKeySpec spec;
  spec.allowed_operations = {"reboot"};
  return stack.create_automation_key(spec);
}

}  // namespace

TEST_CASE("reboot runs the reboot command and completes when the agent returns under a new boot id",
          "[e2e][reboot]") {
  auto& fixture = reboot_stack();
  auto& stack = fixture.stack;
  const auto key = reboot_key(stack);
  auto client = stack.client();
  fixture.set_mode("reboot");
  const std::string old_boot_id = boot_id_in_file(stack);
  REQUIRE(string_field(stack.get_server(stack.server_id()), "boot_id") == old_boot_id);

  const std::string operation_id = start_reboot(stack, client, key.key, {{"run_id", "reboot-run"}});
  wait_until_agent_stopped(stack);
  const std::string new_boot_id = boot_id_in_file(stack);
  REQUIRE(new_boot_id != old_boot_id);
  INFO("while the server is down the reboot has not completed");
  CHECK(status_of(client, key.key, operation_id) == "running");

  bring_agent_back(stack);
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  INFO(boost::json::serialize(finished));
  CHECK(string_field(finished, "operation_type") == "reboot");
  CHECK(string_field(finished, "status") == "completed");
  CHECK(int_field(finished.at("result").as_object(), "exit_code") == 0);
  CHECK(finished.at("run_id") == boost::json::value("reboot-run"));
  CHECK(string_field(stack.get_server(stack.server_id()), "boot_id") == new_boot_id);
}

TEST_CASE("a reboot command that fails completes the operation with its exit code and the agent stays up",
          "[e2e][reboot]") {
  auto& fixture = reboot_stack();
  auto& stack = fixture.stack;
  const auto key = reboot_key(stack);
  auto client = stack.client();
  fixture.set_mode("fail");
  const std::string boot_id = boot_id_in_file(stack);

  const std::string operation_id = start_reboot(stack, client, key.key);
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  INFO(boost::json::serialize(finished));
  CHECK(string_field(finished, "status") == "completed");
  const auto& result = finished.at("result").as_object();
  CHECK(int_field(result, "exit_code") == refused_exit_code);
  CHECK(string_field(result, "stderr") == "reboot refused\n");
  CHECK(stack.agent().process->running());
  CHECK(boot_id_in_file(stack) == boot_id);
}

TEST_CASE("an agent that returns under the same boot id fails the reboot: the server did not reboot",
          "[e2e][reboot]") {
  auto& fixture = reboot_stack();
  auto& stack = fixture.stack;
  const auto key = reboot_key(stack);
  auto client = stack.client();
  fixture.set_mode("same-boot");
  const std::string boot_id = boot_id_in_file(stack);

  const std::string operation_id = start_reboot(stack, client, key.key);
  wait_until_agent_stopped(stack);
  bring_agent_back(stack);
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(30));
  INFO(boost::json::serialize(finished));
  CHECK(string_field(finished, "status") == "failed");
  CHECK(string_field(finished, "error").find("did not reboot") != std::string::npos);
  CHECK(string_field(stack.get_server(stack.server_id()), "boot_id") == boot_id);
}

TEST_CASE("a reboot whose server does not return within timeout_seconds ends as timeout", "[e2e][reboot]") {
  auto& fixture = reboot_stack();
  auto& stack = fixture.stack;
  const auto key = reboot_key(stack);
  auto client = stack.client();
  fixture.set_mode("reboot");

  const std::string operation_id = start_reboot(stack, client, key.key, {{"timeout_seconds", 2}});
  wait_until_agent_stopped(stack);
  const auto finished = testing::wait_for_operation(client, key.key, operation_id, std::chrono::seconds(20));
  INFO(boost::json::serialize(finished));
  CHECK(string_field(finished, "status") == "timeout");

  // The server coming back later does not change the recorded outcome.
  bring_agent_back(stack);
  CHECK(status_of(client, key.key, operation_id) == "timeout");
}
