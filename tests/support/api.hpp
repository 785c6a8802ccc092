#pragma once
// Small helpers for talking to the controller's JSON API in tests.
#include "common/http_client.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tether::testing {

// "HTTP 422 {"detail":"..."}" — for failure messages.
std::string describe(const http::Response& response);

// The body as a JSON object; throws std::runtime_error (with describe()) when it is not one.
boost::json::object json_object(const http::Response& response);

// obj[key] as a string; throws naming the key when absent or not a string.
std::string string_field(const boost::json::object& obj, std::string_view key);

// POST /api/automation/v1/exec with an rca_ key.
http::Response exec(http::Client& client, std::string_view automation_key, const boost::json::object& body);

// POST /api/automation/v1<path> (path such as "/deploy" or "/registry-auth/login") with an rca_
// key; `extra` headers are added (e.g. X-Forwarded-For).
http::Response v1_post(http::Client& client, std::string_view automation_key, std::string_view path,
                       const boost::json::object& body, const http::Headers& extra = {});

// GET /api/automation/v1/operations/{id}.
http::Response get_operation(http::Client& client, std::string_view automation_key, std::string_view operation_id);

// Polls the operation until its status is no longer "running" and returns that answer; throws
// when the answer is not HTTP 200 or the operation is still running after `timeout`.
boost::json::object wait_for_operation(http::Client& client, std::string_view automation_key,
                                       std::string_view operation_id, std::chrono::milliseconds timeout);

}  // namespace tether::testing
