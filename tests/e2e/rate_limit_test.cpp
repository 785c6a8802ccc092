// Per-key rate limit: every v1 request counts (commands and polls); the first request over
// rate_limit_per_minute within a minute gets 429 with Retry-After; other keys are not affected.
#include "tests/e2e/ci_api.hpp"

#include <charconv>

using namespace tether;
using namespace tether::e2e;

namespace {

testing::AutomationKey key_with_limit(testing::TetherStack& stack, std::optional<int> limit) {
  testing::AutomationKeySpec spec;
  spec.name = "rate-limited";
  spec.rate_limit_per_minute = limit;
  return stack.create_automation_key(spec);
}

void check_rate_limited(const http::Response& response) {
  check_error(response, 429);
  const auto retry_after = response.header("Retry-After");
  REQUIRE(retry_after.has_value());
  INFO("Retry-After: " << *retry_after);
  int seconds = 0;
  const auto [end, error] = std::from_chars(retry_after->data(), retry_after->data() + retry_after->size(), seconds);
  REQUIRE(error == std::errc());
  CHECK(end == retry_after->data() + retry_after->size());
  CHECK(seconds >= 1);
  CHECK(seconds <= 60);
}

boost::json::object key_create_body(const boost::json::value& limit) {
  return {{"name", "limit"},
          {"allowed_server_ids", boost::json::array{}},
          {"allowed_operations", boost::json::array{}},
          {"rate_limit_per_minute", limit}};
}

}  // namespace

TEST_CASE("the request after rate_limit_per_minute requests within a minute gets 429 with Retry-After; polls count",
          "[e2e][rate][429]") {
  auto& stack = shared_stack();
  const auto key = key_with_limit(stack, 5);
  CHECK(int_field(key.created, "rate_limit_per_minute") == 5);
  auto client = stack.client();

  const auto ran = testing::exec(client, key.key, exec_body(stack.server_id(), "echo one"));
  INFO(describe(ran));
  REQUIRE(ran.status == 200);
  const std::string operation_id = string_field(json_object(ran), "operation_id");
  for (int request = 2; request <= 5; ++request) {
    INFO("request " << request);
    const auto polled = testing::get_operation(client, key.key, operation_id);
    INFO(describe(polled));
    CHECK(polled.status == 200);
  }
  check_rate_limited(testing::get_operation(client, key.key, operation_id));
  check_rate_limited(testing::exec(client, key.key, exec_body(stack.server_id(), "echo refused")));

  INFO("another key is not affected");
  const auto other = stack.create_automation_key();
  const auto answer = testing::get_operation(client, other.key, operation_id);
  INFO(describe(answer));
  CHECK(answer.status == 200);
}

TEST_CASE("a key without an explicit limit gets 100 requests a minute", "[e2e][rate][429]") {
  auto& stack = shared_stack();
  const auto key = key_with_limit(stack, std::nullopt);
  CHECK(int_field(key.created, "rate_limit_per_minute") == 100);
  auto client = stack.client();
  // Polls of an unknown operation are the cheapest v1 requests: authenticated, counted, 404.
  const std::string unknown = ids::new_uuid();
  for (int request = 1; request <= 100; ++request) {
    const auto answer = testing::get_operation(client, key.key, unknown);
    if (answer.status != 404) {
      FAIL("request " << request << " of 100: " << describe(answer));
    }
  }
  check_rate_limited(testing::get_operation(client, key.key, unknown));
}

TEST_CASE("rate_limit_per_minute must be an integer from 1 to 1000 (422 otherwise)", "[e2e][rate][422]") {
  auto& stack = shared_stack();
  for (const auto& limit : {boost::json::value(0), boost::json::value(1001), boost::json::value(-5),
                            boost::json::value("100"), boost::json::value(2.5)}) {
    INFO("rate_limit_per_minute " << boost::json::serialize(limit));
    check_error(stack.admin("POST", "/api/automation-keys", boost::json::serialize(key_create_body(limit))), 422);
  }
  for (const int limit : {1, 1000}) {
    INFO("rate_limit_per_minute " << limit);
    const auto created = stack.admin("POST", "/api/automation-keys", boost::json::serialize(key_create_body(limit)));
    INFO(describe(created));
    REQUIRE(created.status == 201);
    CHECK(int_field(json_object(created), "rate_limit_per_minute") == limit);
  }
}
