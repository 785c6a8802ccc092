#pragma once
// Assertions shared by the end-to-end tests (Catch2, so they report where they were called from).
#include "common/crypto.hpp"
#include "common/http_client.hpp"
#include "common/ids.hpp"
#include "tests/support/api.hpp"
#include "tests/support/tether_stack.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace tether::e2e {

using testing::describe;
using testing::json_object;
using testing::string_field;

// An error answer: JSON with a non-empty "detail"; on the operator routes also "error" with the
// same message (seed 002's clients read `error`), and nothing else.
inline void check_error(const http::Response& response, unsigned expected_status) {
  INFO(describe(response));
  CHECK(response.status == expected_status);
  CHECK(response.header("Content-Type").value_or("").rfind("application/json", 0) == 0);
  boost::json::object body;
  REQUIRE_NOTHROW(body = json_object(response));
  const auto* detail = body.if_contains("detail");
  REQUIRE(detail != nullptr);
  REQUIRE(detail->is_string());
  CHECK_FALSE(detail->as_string().empty());
  if (const auto* error = body.if_contains("error")) {
    CHECK(body.size() == 2);
    CHECK(*error == *detail);
  } else {
    CHECK(body.size() == 1);
  }
}

// The v1 error shape of seed 003: exactly {"detail": "<non-empty message>"}.
inline void check_v1_error(const http::Response& response, unsigned expected_status) {
  check_error(response, expected_status);
  INFO(describe(response));
  CHECK_FALSE(json_object(response).contains("error"));
}

inline std::int64_t int_field(const boost::json::object& obj, std::string_view key) {
  INFO("field " << key << " of " << boost::json::serialize(obj));
  const auto* value = obj.if_contains(key);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_number());
  return value->to_number<std::int64_t>();
}

inline bool is_rfc3339_utc(const boost::json::value& value) {
  if (!value.is_string()) return false;
  const std::string text(value.as_string());
  return text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
         text[16] == ':' && text.back() == 'Z';
}

// `prefix` followed by 64 lower-case hex digits (the shape of every Tether secret).
inline bool is_secret(const std::string& value, const std::string& prefix) {
  return value.size() == prefix.size() + 64 && value.rfind(prefix, 0) == 0 &&
         value.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos;
}

inline boost::json::object exec_body(const std::string& server_id, const std::string& command) {
  return {{"server_id", server_id}, {"command", command}};
}

// A shell snippet that waits until `path` exists, for at most `max_seconds` (polling every 50 ms),
// so that a test which dies before creating it does not leave the command waiting forever.
inline std::string wait_for_file_snippet(const std::filesystem::path& path, int max_seconds = 30) {
  return "i=0; while [ ! -e '" + path.string() + "' ] && [ $i -lt " + std::to_string(max_seconds * 20) +
         " ]; do sleep 0.05; i=$((i+1)); done";
}

// One database and stack shared by the test cases of an executable that do not disturb it.
inline testing::TetherStack& shared_stack(testing::StackOptions options = {}) {
  struct Shared {
    testing::TestDatabase database;
    testing::TetherStack stack;
    explicit Shared(testing::StackOptions o) : stack(database, std::move(o)) {}
  };
  // Initialized in its declaration, so that its destruction at exit is registered after the
  // statics libpqxx creates on first use (while the stack starts), and runs before they are gone:
  // tearing the stack down drops its database through libpqxx.
  static const std::unique_ptr<Shared> shared = std::make_unique<Shared>(std::move(options));
  return shared->stack;
}

}  // namespace tether::e2e
