// Output past --max-output-bytes is cut to its head: the v1 answers (exec, poll) and the operator
// view say so with stdout_truncated / stderr_truncated, true for the stream that was cut and
// false for the other, instead of passing the head off as the whole output.
#include "tests/e2e/e2e_checks.hpp"

using namespace tether;
using namespace tether::e2e;

namespace {

constexpr std::size_t stored_limit = 1024;  // the smallest --max-output-bytes

testing::TetherStack& stack() {
  testing::StackOptions options;
  options.controller_args = {"--max-output-bytes", std::to_string(stored_limit)};
  return shared_stack(options);
}

void check_flags(const boost::json::object& result, bool stdout_cut, bool stderr_cut) {
  INFO(boost::json::serialize(result).substr(0, 400));
  REQUIRE(result.contains("stdout_truncated"));
  REQUIRE(result.contains("stderr_truncated"));
  CHECK(result.at("stdout_truncated") == stdout_cut);
  CHECK(result.at("stderr_truncated") == stderr_cut);
}

}  // namespace

TEST_CASE("output cut at --max-output-bytes is flagged truncated in every view", "[e2e][output]") {
  auto& s = stack();
  const auto key = s.create_automation_key();
  auto client = s.client();
  // 5000 bytes of stdout, 10 bytes of stderr.
  const auto response = testing::exec(client, key.key, exec_body(s.server_id(), "head -c 5000 /dev/zero | tr '\\000' o; "
                                                                                "printf 'small err\\n' >&2"));
  INFO(describe(response).substr(0, 600));
  REQUIRE(response.status == 200);
  const auto answer = json_object(response);
  REQUIRE(string_field(answer, "status") == "completed");
  CHECK(string_field(answer, "stdout") == std::string(stored_limit, 'o'));
  CHECK(string_field(answer, "stderr") == "small err\n");
  check_flags(answer, true, false);

  const auto id = string_field(answer, "operation_id");
  const auto polled = testing::get_operation(client, key.key, id);
  REQUIRE(polled.status == 200);
  check_flags(json_object(polled).at("result").as_object(), true, false);

  const auto view = s.admin("GET", "/api/operations/" + id);
  REQUIRE(view.status == 200);
  check_flags(json_object(view).at("result").as_object(), true, false);
}

TEST_CASE("output within the limit is flagged not truncated, and stderr is flagged on its own", "[e2e][output]") {
  auto& s = stack();
  const auto key = s.create_automation_key();
  auto client = s.client();
  const auto whole = testing::exec(client, key.key, exec_body(s.server_id(), "echo fits"));
  REQUIRE(whole.status == 200);
  check_flags(json_object(whole), false, false);

  const auto err = testing::exec(client, key.key,
                                 exec_body(s.server_id(), "head -c 3000 /dev/zero | tr '\\000' e >&2; echo out"));
  REQUIRE(err.status == 200);
  const auto answer = json_object(err);
  CHECK(string_field(answer, "stderr").size() == stored_limit);
  check_flags(answer, false, true);
}
