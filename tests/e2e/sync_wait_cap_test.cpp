// Issue 8, point 5: CI clients of the v1 API commonly abort a request after 30 s, so POST /exec
// answers by the default sync wait cap of 25 s, however long the command's timeout: a 40 s command
// is answered "running" in time, and polling then gives its result.
#include "tests/e2e/e2e_checks.hpp"

using namespace tether;
using namespace std::chrono_literals;

TEST_CASE("a command longer than 25 s is answered running within 26 s and its result is polled", "[e2e][sync]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database);  // the controller's default --sync-wait-cap-seconds
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  auto body = e2e::exec_body(stack.server_id(), "sleep 40; echo done");
  body["timeout_seconds"] = 120;

  const auto asked = std::chrono::steady_clock::now();
  const auto response = testing::exec(client, key.key, body);
  const auto waited = std::chrono::steady_clock::now() - asked;
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  const auto answer = e2e::json_object(response);
  CHECK(e2e::string_field(answer, "status") == "running");
  CHECK(waited < 26s);
  CHECK(waited >= 24s);  // it did wait: a command that ends sooner is answered with its result

  const auto ended =
      testing::wait_for_operation(client, key.key, e2e::string_field(answer, "operation_id"), 60s);
  CHECK(e2e::string_field(ended, "status") == "completed");
  CHECK(ended.at("result").as_object().at("stdout") == "done\n");
  CHECK(ended.at("result").as_object().at("exit_code") == 0);
}
