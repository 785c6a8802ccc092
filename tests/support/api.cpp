#include "tests/support/api.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

namespace tether::testing {

std::string describe(const http::Response& response) {
  return fmt::format("HTTP {} {}", response.status, response.body);
}

boost::json::object json_object(const http::Response& response) {
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  if (ec || !value.is_object()) {
    throw std::runtime_error("response body is not a JSON object: " + describe(response));
  }
  return std::move(value.as_object());
}

std::string string_field(const boost::json::object& obj, std::string_view key) {
  const auto* value = obj.if_contains(key);
  if (value == nullptr || !value->is_string()) {
    throw std::runtime_error(fmt::format("field '{}' missing or not a string in {}", key, boost::json::serialize(obj)));
  }
  return std::string(value->as_string());
}

http::Response exec(http::Client& client, std::string_view automation_key, const boost::json::object& body) {
  return client.post("/api/automation/v1/exec", boost::json::serialize(body), {http::bearer(automation_key)});
}

http::Response get_operation(http::Client& client, std::string_view automation_key, std::string_view operation_id) {
  return client.get(fmt::format("/api/automation/v1/operations/{}", operation_id), {http::bearer(automation_key)});
}

boost::json::object wait_for_operation(http::Client& client, std::string_view automation_key,
                                       std::string_view operation_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto response = get_operation(client, automation_key, operation_id);
    if (response.status != 200) throw std::runtime_error("polling the operation failed: " + describe(response));
    auto operation = json_object(response);
    if (string_field(operation, "status") != "running") return operation;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("operation still running after the wait: " + response.body);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace tether::testing
