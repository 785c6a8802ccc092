// POST /api/automation/v1/exec and GET /operations/{id} through a real controller and agent:
// the result shapes of seed 003 and the exact output of the command.
#include "tests/e2e/e2e_checks.hpp"

#include "tests/support/child_process.hpp"

#include <filesystem>

using namespace tether;
using namespace tether::e2e;
using testing::exec;
using testing::get_operation;

TEST_CASE("exec of a command that completes answers 200 with its exit code and exact stdout and stderr",
          "[e2e][exec]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  auto request = exec_body(stack.server_id(), "echo hi; echo err >&2; exit 3");
  request["run_id"] = "e2e-run-1";
  request["run_context"] = {{"provider", "github_actions"}, {"repository", "acme/app"}, {"sha", "abc123"}};
  const auto response = exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(response.header("Content-Type").value_or("").rfind("application/json", 0) == 0);
  const auto body = json_object(response);
  CHECK(ids::is_uuid(string_field(body, "operation_id")));
  CHECK(string_field(body, "status") == "completed");
  CHECK(int_field(body, "exit_code") == 3);
  CHECK(string_field(body, "stdout") == "hi\n");
  CHECK(string_field(body, "stderr") == "err\n");
  CHECK(int_field(body, "duration_ms") >= 0);
}

TEST_CASE("polling a finished exec operation gives the seed 003 operation shape with the same result",
          "[e2e][exec]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  auto request = exec_body(stack.server_id(), "echo hi; echo err >&2; exit 3");
  request["run_id"] = "github-run-12345";
  const auto response = exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto exec_result = json_object(response);
  const std::string operation_id = string_field(exec_result, "operation_id");
  REQUIRE(string_field(exec_result, "status") == "completed");

  const auto polled = get_operation(client, key.key, operation_id);
  INFO(describe(polled));
  REQUIRE(polled.status == 200);
  const auto operation = json_object(polled);
  CHECK(string_field(operation, "operation_id") == operation_id);
  CHECK(string_field(operation, "operation_type") == "exec");
  CHECK(string_field(operation, "server_id") == stack.server_id());
  CHECK(string_field(operation, "server_name") == stack.agent().server_name);
  CHECK(string_field(operation, "status") == "completed");
  CHECK(string_field(operation, "run_id") == "github-run-12345");
  REQUIRE(operation.contains("started_at"));
  REQUIRE(operation.contains("completed_at"));
  CHECK(is_rfc3339_utc(operation.at("started_at")));
  CHECK(is_rfc3339_utc(operation.at("completed_at")));
  CHECK(string_field(operation, "started_at") <= string_field(operation, "completed_at"));

  REQUIRE(operation.contains("result"));
  REQUIRE(operation.at("result").is_object());
  const auto& result = operation.at("result").as_object();
  CHECK(int_field(result, "exit_code") == 3);
  CHECK(string_field(result, "stdout") == "hi\n");
  CHECK(string_field(result, "stderr") == "err\n");
  CHECK(int_field(result, "duration_ms") == int_field(exec_result, "duration_ms"));
}

TEST_CASE("exec runs the command in the requested working directory", "[e2e][exec]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const auto workdir = stack.dir() / "workdir";
  std::filesystem::create_directories(workdir);

  auto request = exec_body(stack.server_id(), "pwd");
  request["working_directory"] = workdir.string();
  const auto response = exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "completed");
  CHECK(string_field(body, "stdout") == workdir.string() + "\n");
}

TEST_CASE("exec in a working directory that does not exist ends as failed, not completed", "[e2e][exec]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  auto request = exec_body(stack.server_id(), "echo should-not-run");
  request["working_directory"] = (stack.dir() / "no-such-directory").string();
  const auto response = exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  const auto final_state = string_field(body, "status") == "running"
                               ? testing::wait_for_operation(client, key.key, string_field(body, "operation_id"),
                                                             std::chrono::seconds(20))
                               : body;
  CHECK(string_field(final_state, "status") == "failed");
  CHECK(response.body.find("should-not-run") == std::string::npos);
}

TEST_CASE("exec returns large output whole and in order", "[e2e][exec]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  std::string expected;
  for (int i = 1; i <= 60000; ++i) expected += std::to_string(i) + "\n";  // about 350 KB: many frames
  const auto response = exec(client, key.key, exec_body(stack.server_id(), "seq 1 60000"));
  INFO("HTTP " << response.status << ", " << response.body.size() << " bytes");
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "completed");
  CHECK(int_field(body, "exit_code") == 0);
  CHECK(string_field(body, "stdout") == expected);
}

TEST_CASE("output bytes that are not UTF-8 come back as U+FFFD in valid JSON", "[e2e][exec]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  const auto response = exec(client, key.key, exec_body(stack.server_id(), R"(printf '\377ok\n')"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);  // boost::json refuses invalid UTF-8
  CHECK(string_field(body, "stdout") == "\xEF\xBF\xBDok\n");
}
