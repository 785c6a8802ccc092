#include "tests/support/api.hpp"

#include <fmt/format.h>

#include <algorithm>
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

http::Response v1_post(http::Client& client, std::string_view automation_key, std::string_view path,
                       const boost::json::object& body, const http::Headers& extra) {
  http::Headers headers{http::bearer(automation_key)};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return client.post(fmt::format("/api/automation/v1{}", path), boost::json::serialize(body), headers);
}

http::Response get_operation(http::Client& client, std::string_view automation_key, std::string_view operation_id) {
  return client.get(fmt::format("/api/automation/v1/operations/{}", operation_id), {http::bearer(automation_key)});
}

boost::json::object wait_for_operation(http::Client& client, std::string_view automation_key,
                                       std::string_view operation_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Polls count against the key's rate limit (100 a minute by default): start quick, then back
  // off, so that a long wait stays far below it.
  std::chrono::milliseconds interval(20);
  while (true) {
    auto response = get_operation(client, automation_key, operation_id);
    if (response.status == 429) throw std::runtime_error("polling the operation was rate limited: " + describe(response));
    if (response.status != 200) throw std::runtime_error("polling the operation failed: " + describe(response));
    auto operation = json_object(response);
    if (string_field(operation, "status") != "running") return operation;
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("operation still running after the wait: " + response.body);
    }
    std::this_thread::sleep_for(interval);
    interval = std::min(interval * 3 / 2, std::chrono::milliseconds(500));
  }
}

}  // namespace tether::testing
