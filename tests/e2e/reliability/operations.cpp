#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/wait.hpp"

#include <fmt/format.h>

namespace tether::reliability {
namespace {

std::string tail(const std::string& text, std::size_t bytes = 6000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

}  // namespace

std::string start_running_command(testing::TetherStack& stack, const std::string& automation_key,
                                  const std::string& command, int timeout_seconds) {
  auto client = stack.client();
  auto body = e2e::exec_body(stack.server_id(), command);
  body["timeout_seconds"] = timeout_seconds;
  const auto response = testing::exec(client, automation_key, body);
  INFO("exec of '" << command << "': " << testing::describe(response));
  REQUIRE(response.status == 200);
  const auto answer = testing::json_object(response);
  REQUIRE(testing::string_field(answer, "status") == "running");
  const auto operation_id = testing::string_field(answer, "operation_id");
  REQUIRE(ids::is_uuid(operation_id));
  return operation_id;
}

boost::json::object wait_until_ended(testing::TetherStack& stack, const std::string& operation_id,
                                     std::chrono::milliseconds timeout) {
  boost::json::object last;
  std::string last_problem;
  const bool ended = testing::wait_until(
      [&] {
        try {
          const auto response = stack.admin("GET", "/api/operations/" + operation_id);
          if (response.status != 200) {
            last_problem = testing::describe(response);
            return false;
          }
          last = testing::json_object(response);
          return testing::string_field(last, "status") != "running";
        } catch (const http::TransportError& error) {
          last_problem = error.what();
          return false;
        }
      },
      timeout, std::chrono::milliseconds(100));
  INFO("operation " << operation_id << " last read as " << boost::json::serialize(last) << "; last problem: "
                    << last_problem << "\n"
                    << stack_logs(stack));
  REQUIRE(ended);
  return last;
}

void wait_until_connected(testing::TetherStack& stack, std::size_t agent_index, std::chrono::milliseconds timeout) {
  const auto& server_id = stack.agent(agent_index).server_id;
  boost::json::object last;
  const bool connected = testing::wait_until(
      [&] {
        last = stack.get_server(server_id);
        const auto* flag = last.if_contains("connected");
        return flag != nullptr && flag->is_bool() && flag->as_bool();
      },
      timeout, std::chrono::milliseconds(50));
  INFO("server last read as " << boost::json::serialize(last) << "\n" << stack_logs(stack));
  REQUIRE(connected);
}

std::string stack_logs(const testing::TetherStack& stack) {
  std::string text = "--- controller log (tail):\n" + tail(stack.controller_log());
  for (std::size_t i = 0; i < stack.agent_count(); ++i) {
    text += fmt::format("\n--- agent {} log (tail):\n{}", i + 1, tail(stack.agent_log(i)));
  }
  return text;
}

std::string numbered_lines(int last) {
  std::string text;
  for (int i = 1; i <= last; ++i) text += std::to_string(i) + "\n";
  return text;
}

std::string listed_status(testing::TetherStack& stack, const std::string& server_id) {
  const auto response = stack.admin("GET", "/api/servers");
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  const auto listed = e2e::json_object(response);
  for (const auto& server : listed.at("servers").as_array()) {
    if (e2e::string_field(server.as_object(), "id") == server_id) return e2e::string_field(server.as_object(), "status");
  }
  FAIL("server " << server_id << " is not listed");
  return {};
}

std::string v1_target(const std::string& operation_id) {
  return "/api/automation/v1/operations/" + operation_id + "/stream";
}

std::string operator_target(const std::string& operation_id) { return "/api/operations/" + operation_id + "/stream"; }

testing::SseRequest stream_request(const testing::TetherStack& stack, std::string target,
                                   std::optional<std::string> bearer, std::optional<std::string> last_event_id) {
  testing::SseRequest request;
  request.port = stack.port();
  request.target = std::move(target);
  if (bearer) request.headers.push_back(http::bearer(*bearer));
  if (last_event_id) request.headers.emplace_back("Last-Event-ID", *last_event_id);
  return request;
}

}  // namespace tether::reliability
