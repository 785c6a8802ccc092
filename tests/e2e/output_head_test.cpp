// README: each stream keeps its first --max-output-bytes and what is cut is everything after it,
// so the exec answer and every poll carry exactly that head (a live stream carries it all).
#include "tests/e2e/e2e_checks.hpp"

using namespace tether;
using namespace tether::e2e;
using testing::exec;

namespace {
constexpr std::size_t limit = 1024;  // the smallest --max-output-bytes the controller accepts

testing::TetherStack& limited_stack() {
  testing::StackOptions options;
  options.controller_args = {"--max-output-bytes", std::to_string(limit)};
  return shared_stack(options);
}

std::string numbers(int last) {
  std::string out;
  for (int i = 1; i <= last; ++i) out += std::to_string(i) + "\n";
  return out;
}
}  // namespace

TEST_CASE("output past --max-output-bytes is cut: the exec answer and a poll carry the stored head of each stream",
          "[e2e][exec][output]") {
  auto& stack = limited_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  // Several writes per stream, so the cut falls inside a later chunk, not at the first one.
  const auto response = exec(
      client, key.key,
      exec_body(stack.server_id(), "seq 1 2000; echo short-err >&2; i=0; while [ $i -lt 60 ]; do seq 1 30 >&2; "
                                   "i=$((i+1)); done; echo tail-out"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  REQUIRE(string_field(answer, "status") == "completed");

  const std::string expected_stdout = numbers(2000).substr(0, limit);
  std::string all_stderr = "short-err\n";
  for (int i = 0; i < 60; ++i) all_stderr += numbers(30);
  const std::string expected_stderr = all_stderr.substr(0, limit);
  CHECK(string_field(answer, "stdout") == expected_stdout);
  CHECK(string_field(answer, "stderr") == expected_stderr);

  const auto polled = json_object(testing::get_operation(client, key.key, string_field(answer, "operation_id")));
  REQUIRE(polled.at("result").is_object());
  const auto& result = polled.at("result").as_object();
  CHECK(string_field(result, "stdout") == expected_stdout);
  CHECK(string_field(result, "stderr") == expected_stderr);
  CHECK(int_field(result, "exit_code") == 0);
}

TEST_CASE("output within --max-output-bytes is kept whole", "[e2e][exec][output]") {
  auto& stack = limited_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const auto response = exec(client, key.key, exec_body(stack.server_id(), "seq 1 100"));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(string_field(json_object(response), "stdout") == numbers(100));
}
