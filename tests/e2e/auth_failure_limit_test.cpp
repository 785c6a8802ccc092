// Failed authentications are limited per client address: past --auth-failure-threshold within
// --auth-failure-window-seconds the caller gets 429 with Retry-After instead of 401, on v1 and
// operator routes alike, while a valid key from the same address is still served. The audit log
// holds one row per address and window counting the calls, and the server_id and run_id such a
// caller claims are kept as claims: they never show under the audit view's server_id and run_id
// filters, so nobody without a key can write into a real run's trail. Each case calls from its
// own X-Forwarded-For address (the controller trusts 127.0.0.1 as a proxy), so that their counts
// are apart.
#include "tests/e2e/ci_api.hpp"

#include <charconv>

using namespace tether;
using namespace tether::e2e;

namespace {

constexpr int threshold = 5;
constexpr int window_seconds = 600;  // longer than the test: every case stays in its first window

testing::TetherStack& limited_stack() {
  testing::StackOptions options;
  options.trusted_proxies = {"127.0.0.1/32"};
  options.controller_args = {"--auth-failure-threshold", std::to_string(threshold), "--auth-failure-window-seconds",
                             std::to_string(window_seconds)};
  return shared_stack(options);
}

http::Headers from(const std::string& address, std::optional<std::string> key = std::nullopt) {
  http::Headers headers{{"X-Forwarded-For", address}};
  if (key) headers.push_back(http::bearer(*key));
  return headers;
}

void check_limited(const http::Response& response) {
  check_error(response, 429);
  const auto retry_after = response.header("Retry-After");
  REQUIRE(retry_after.has_value());
  INFO("Retry-After: " << *retry_after);
  int seconds = 0;
  const auto [end, error] = std::from_chars(retry_after->data(), retry_after->data() + retry_after->size(), seconds);
  REQUIRE(error == std::errc());
  CHECK(end == retry_after->data() + retry_after->size());
  CHECK(seconds >= 1);
  CHECK(seconds <= window_seconds);
}

// The audit entries of failed authentications from `address`.
std::vector<boost::json::object> failure_rows(testing::TetherStack& stack, const std::string& address) {
  std::vector<boost::json::object> out;
  const auto answer = admin_get(stack, "/api/audit?action=auth.failed&limit=1000");
  for (const auto& entry : array_field(answer, "entries")) {
    const auto& object = entry.as_object();
    if (object.at("client_ip") == boost::json::value(address)) out.push_back(object);
  }
  return out;
}

}  // namespace

TEST_CASE("past the threshold a v1 caller failing authentication gets 429 with Retry-After; a valid key from the same "
          "address is still served",
          "[e2e][auth][429]") {
  auto& stack = limited_stack();
  const std::string address = "203.0.113.11";
  const auto valid = stack.create_automation_key();
  auto client = stack.client();
  const auto bogus = crypto::new_secret("rca_");
  const std::string target = "/api/automation/v1/operations/" + ids::new_uuid();

  for (int call = 1; call <= threshold; ++call) {
    INFO("call " << call);
    check_error(client.get(target, from(address, bogus)), 401);
  }
  for (int call = threshold + 1; call <= threshold + 5; ++call) {
    INFO("call " << call);
    check_limited(client.get(target, from(address, bogus)));
  }
  INFO("a request without any key counts as a failure too");
  check_limited(client.get(target, from(address)));

  INFO("the valid key is authenticated: an unknown operation is 404, not 429");
  const auto served = client.get(target, from(address, valid.key));
  INFO(describe(served));
  CHECK(served.status == 404);

  INFO("another address is not affected");
  check_error(client.get(target, from("203.0.113.12", bogus)), 401);
}

TEST_CASE("operator routes count failed authentications per address too, and answer 429 past the threshold",
          "[e2e][auth][429]") {
  auto& stack = limited_stack();
  const std::string address = "203.0.113.21";
  auto client = stack.client();
  const auto bogus = crypto::new_secret("tak_");
  for (int call = 1; call <= threshold; ++call) {
    INFO("call " << call);
    check_error(client.get("/api/servers", from(address, bogus)), 401);
  }
  check_limited(client.get("/api/servers", from(address, bogus)));
  check_limited(client.get("/api/operations/" + ids::new_uuid() + "/stream?token=" + bogus, from(address)));

  const auto served = client.get("/api/servers", from(address, stack.admin_key()));
  INFO(describe(served));
  CHECK(served.status == 200);

  const auto rows = failure_rows(stack, address);
  REQUIRE(rows.size() == 1);
  INFO(boost::json::serialize(rows.at(0)));
  CHECK(int_field(rows.at(0), "failures") == threshold + 2);
  CHECK(string_field(rows.at(0).at("detail").as_object(), "first_action") == "GET /api/servers");
  INFO("the query string, which may carry a ?token=, is not recorded");
  CHECK(boost::json::serialize(rows.at(0)).find(bogus) == std::string::npos);
}

TEST_CASE("a flood of failed authentications is one audit row per address and window, and the run_id and server_id "
          "it claims stay out of that run's and server's trail",
          "[e2e][auth][audit]") {
  auto& stack = limited_stack();
  const std::string run = "flood-target-run";
  const std::string address = "203.0.113.31";
  auto client = stack.client();

  // The real run: one exec with a valid key.
  const auto key = stack.create_automation_key();
  auto genuine = exec_body(stack.server_id(), "true");
  genuine["run_id"] = run;
  const auto ran = testing::exec(client, key.key, genuine);
  INFO(describe(ran));
  REQUIRE(ran.status == 200);

  // The flood: the same run_id and server_id without a valid key.
  constexpr int calls = 200;
  auto forged = exec_body(stack.server_id(), "echo forged");
  forged["run_id"] = run;
  int unauthorized = 0, limited = 0;
  const auto bogus = crypto::new_secret("rca_");
  for (int call = 0; call < calls; ++call) {
    const auto answer = testing::v1_post(client, bogus, "/exec", forged, from(address));
    if (answer.status == 401) ++unauthorized;
    else if (answer.status == 429) ++limited;
    else FAIL("call " << call << ": " << describe(answer));
  }
  CHECK(unauthorized == threshold);
  CHECK(limited == calls - threshold);

  const auto rows = failure_rows(stack, address);
  REQUIRE(rows.size() == 1);
  const auto& row = rows.at(0);
  INFO(boost::json::serialize(row));
  CHECK(int_field(row, "failures") == calls);
  CHECK(string_field(row, "actor") == "anonymous");
  CHECK(string_field(row, "outcome") == "denied");
  CHECK(int_field(row, "status_code") == 429);
  CHECK(string_field(row, "claimed_run_id") == run);
  CHECK(string_field(row, "claimed_server_id") == stack.server_id());
  CHECK(row.at("run_id").is_null());
  CHECK(row.at("server_id").is_null());
  CHECK(row.at("key_id").is_null());
  CHECK(is_rfc3339_utc(row.at("last_at")));
  CHECK(string_field(row.at("detail").as_object(), "first_action") == "v1.exec");

  for (const std::string filter : {"run_id=" + run, "server_id=" + stack.server_id()}) {
    INFO("GET /api/audit?" << filter);
    const auto entries = array_field(admin_get(stack, "/api/audit?limit=1000&" + filter), "entries");
    CHECK_FALSE(entries.empty());  // the genuine exec
    for (const auto& entry : entries) {
      INFO(boost::json::serialize(entry));
      CHECK(string_field(entry.as_object(), "action") != "auth.failed");
      CHECK(string_field(entry.as_object(), "actor") != "anonymous");
    }
  }
}
