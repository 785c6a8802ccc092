// 422 for every invalid exec request (seed 003 limits), with the error shape {"detail": "..."};
// and the limits themselves are accepted.
#include "tests/e2e/e2e_checks.hpp"

using namespace tether;
using namespace tether::e2e;
using testing::exec;

namespace {

struct Fixture {
  testing::TetherStack& stack = shared_stack();
  testing::AutomationKey key = stack.create_automation_key();
  http::Client client = stack.client();

  http::Response post_raw(const std::string& body) {
    return client.post("/api/automation/v1/exec", body, {http::bearer(key.key)});
  }
  http::Response post(const boost::json::object& body) { return exec(client, key.key, body); }
  boost::json::object valid(const std::string& command = "true") { return exec_body(stack.server_id(), command); }
};

std::string detail_of(const http::Response& response) {
  return string_field(json_object(response), "detail");
}

void check_completed(const http::Response& response, const std::string& expected_stdout) {
  INFO(describe(response).substr(0, 2000));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "completed");
  CHECK(string_field(body, "stdout") == expected_stdout);
}

}  // namespace

TEST_CASE("malformed JSON and non-object bodies are refused with 422", "[e2e][v1][422]") {
  Fixture f;
  check_v1_error(f.post_raw(R"({"server_id": )"), 422);
  check_v1_error(f.post_raw("not json at all"), 422);
  check_v1_error(f.post_raw("[]"), 422);
  check_v1_error(f.post_raw("\"a string\""), 422);
  check_v1_error(f.post_raw(""), 422);
}

TEST_CASE("a missing command or server_id is refused with 422 naming the field", "[e2e][v1][422]") {
  Fixture f;
  auto without_command = f.valid();
  without_command.erase("command");
  const auto missing_command = f.post(without_command);
  check_v1_error(missing_command, 422);
  CHECK_THAT(detail_of(missing_command), Catch::Contains("command"));

  auto without_server = f.valid();
  without_server.erase("server_id");
  const auto missing_server = f.post(without_server);
  check_v1_error(missing_server, 422);
  CHECK_THAT(detail_of(missing_server), Catch::Contains("server_id"));
}

TEST_CASE("a server_id that is not a UUID is refused with 422", "[e2e][v1][422]") {
  Fixture f;
  check_v1_error(f.post(exec_body("web-1", "true")), 422);
  check_v1_error(f.post(exec_body(f.stack.server_id() + "0", "true")), 422);
  auto numeric = f.valid();
  numeric["server_id"] = 42;
  check_v1_error(f.post(numeric), 422);
}

TEST_CASE("a command of 8,192 characters runs and one of 8,193 is refused with 422", "[e2e][v1][422]") {
  Fixture f;
  const std::string head = "echo ok #";
  const std::string longest = head + std::string(8192 - head.size(), 'x');
  REQUIRE(longest.size() == 8192);
  check_completed(f.post(f.valid(longest)), "ok\n");
  check_v1_error(f.post(f.valid(longest + "x")), 422);
}

TEST_CASE("env of 200 keys runs and of 201 keys is refused with 422", "[e2e][v1][422]") {
  Fixture f;
  boost::json::object env;
  for (int i = 0; i < 200; ++i) env["K" + std::to_string(i)] = "v";
  auto at_limit = f.valid("echo \"$K0$K199\"");
  at_limit["env"] = env;
  check_completed(f.post(at_limit), "vv\n");

  env["K200"] = "v";
  auto over_limit = f.valid();
  over_limit["env"] = env;
  check_v1_error(f.post(over_limit), 422);
}

TEST_CASE("env of 60,000 bytes reaches the command and more than 64 KB is refused with 422", "[e2e][v1][422]") {
  Fixture f;
  auto at_limit = f.valid("printf %s \"$BIG\" | wc -c");
  at_limit["env"] = {{"BIG", std::string(60000, 'a')}};
  check_completed(f.post(at_limit), "60000\n");

  auto one_large = f.valid();
  one_large["env"] = {{"BIG", std::string(70000, 'a')}};
  check_v1_error(f.post(one_large), 422);

  boost::json::object many;  // 100 values of 700 bytes: each small, together 70 KB
  for (int i = 0; i < 100; ++i) many["V" + std::to_string(i)] = std::string(700, 'b');
  auto many_large = f.valid();
  many_large["env"] = many;
  check_v1_error(f.post(many_large), 422);
}

TEST_CASE("env that is not an object of strings is refused with 422", "[e2e][v1][422]") {
  Fixture f;
  auto number_value = f.valid();
  number_value["env"] = {{"PORT", 8080}};
  check_v1_error(f.post(number_value), 422);
  auto array_env = f.valid();
  array_env["env"] = boost::json::array{"A=1"};
  check_v1_error(f.post(array_env), 422);
}

TEST_CASE("timeout_seconds must be an integer from 1 to 900 (422 otherwise)", "[e2e][v1][422]") {
  Fixture f;
  for (const boost::json::value& bad : {boost::json::value(0), boost::json::value(901), boost::json::value(-1),
                                       boost::json::value("60"), boost::json::value(1.5)}) {
    INFO("timeout_seconds " << boost::json::serialize(bad));
    auto request = f.valid();
    request["timeout_seconds"] = bad;
    check_v1_error(f.post(request), 422);
  }
  for (int good : {1, 900}) {
    INFO("timeout_seconds " << good);
    auto request = f.valid("echo fine");
    request["timeout_seconds"] = good;
    check_completed(f.post(request), "fine\n");
  }
}

TEST_CASE("optional fields of the wrong type are refused with 422", "[e2e][v1][422]") {
  Fixture f;
  auto workdir = f.valid();
  workdir["working_directory"] = 7;
  check_v1_error(f.post(workdir), 422);
  auto run_id = f.valid();
  run_id["run_id"] = boost::json::array{"x"};
  check_v1_error(f.post(run_id), 422);
  auto run_context = f.valid();
  run_context["run_context"] = "github";
  check_v1_error(f.post(run_context), 422);
  auto command = f.valid();
  command["command"] = boost::json::array{"echo", "hi"};
  check_v1_error(f.post(command), 422);
}

TEST_CASE("run_id of 200 characters is accepted however many bytes they take, 201 is 422", "[e2e][v1][422]") {
  Fixture f;
  std::string two_hundred;
  for (int i = 0; i < 200; ++i) two_hundred += "\xC3\xA9";  // é: two bytes each
  auto at_limit = f.valid("echo ok");
  at_limit["run_id"] = two_hundred;
  check_completed(f.post(at_limit), "ok\n");

  auto over_limit = f.valid();
  over_limit["run_id"] = two_hundred + "x";
  const auto refused = f.post(over_limit);
  check_v1_error(refused, 422);
  CHECK_THAT(detail_of(refused), Catch::Contains("run_id"));
}

TEST_CASE("a NUL in run_context, run_id or env is 422 naming the field, not a 500", "[e2e][v1][422]") {
  Fixture f;
  const auto server = f.stack.server_id();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("run_context":{"provider":"github\u0000"})", "run_context.provider"},
      {R"("run_id":"run\u0000-1")", "run_id"},
      {R"("env":{"TOKEN":"a\u0000b"})", "env.TOKEN"},
  };
  for (const auto& [field_json, field] : cases) {
    INFO(field_json);
    const auto response = f.post_raw(R"({"server_id":")" + server + R"(","command":"true",)" + field_json + "}");
    check_v1_error(response, 422);
    CHECK_THAT(detail_of(response), Catch::StartsWith(field + ": "));
  }
}
