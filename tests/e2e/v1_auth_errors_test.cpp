// 401 on the v1 surface: missing, malformed, unknown, revoked and expired automation keys.
#include "tests/e2e/e2e_checks.hpp"

#include "common/time.hpp"
#include "tests/support/wait.hpp"

#include <thread>

using namespace tether;
using namespace tether::e2e;

namespace {

const char* exec_path = "/api/automation/v1/exec";

// Both v1 endpoints with the given headers; a key that passes authentication gets 404 from the
// operations endpoint (the id is unknown), so 401 there can only mean the key was refused.
struct V1Answers {
  http::Response exec;
  http::Response poll;
};

V1Answers call_v1(testing::TetherStack& stack, const http::Headers& headers) {
  auto client = stack.client();
  V1Answers answers;
  answers.exec = client.post(exec_path, boost::json::serialize(exec_body(stack.server_id(), "echo unreachable")),
                             headers);
  answers.poll = client.get("/api/automation/v1/operations/" + ids::new_uuid(), headers);
  return answers;
}

void check_refused(testing::TetherStack& stack, const http::Headers& headers) {
  const auto answers = call_v1(stack, headers);
  check_v1_error(answers.exec, 401);
  check_v1_error(answers.poll, 401);
}

void check_accepted_by_auth(testing::TetherStack& stack, const std::string& key) {
  auto client = stack.client();
  const auto answer = testing::get_operation(client, key, ids::new_uuid());
  INFO("a valid key on an unknown operation: " << describe(answer));
  CHECK(answer.status == 404);
}

}  // namespace

TEST_CASE("v1 requests without an Authorization header are refused with 401", "[e2e][v1][401]") {
  check_refused(shared_stack(), {});
}

TEST_CASE("v1 requests with a malformed Authorization header are refused with 401", "[e2e][v1][401]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  for (const std::string& value : {std::string("Bearer"), std::string("Bearer "), std::string("Basic dXNlcjpwYXNz"),
                                  key.key,  // no scheme
                                  "Token " + key.key, std::string("Bearer rca_"), std::string("Bearer rca_short"),
                                  "Bearer rca_" + std::string(64, 'z'), "Bearer " + key.key + "x",
                                  "Bearer " + key.key.substr(0, key.key.size() - 1)}) {
    INFO("Authorization: " << value);
    check_refused(stack, {{"Authorization", value}});
  }
}

TEST_CASE("v1 requests with an unknown automation key are refused with 401", "[e2e][v1][401]") {
  check_refused(shared_stack(), {http::bearer(crypto::new_secret("rca_"))});
}

TEST_CASE("operator keys and agent tokens are not automation keys (401)", "[e2e][v1][401]") {
  auto& stack = shared_stack();
  check_refused(stack, {http::bearer(stack.admin_key())});
  check_refused(stack, {http::bearer(stack.agent().token)});
}

TEST_CASE("a revoked automation key is refused with 401", "[e2e][v1][401]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  check_accepted_by_auth(stack, key.key);

  const auto revoked = stack.admin("DELETE", "/api/automation-keys/" + key.id);
  INFO(describe(revoked));
  REQUIRE(revoked.status == 200);
  check_refused(stack, {http::bearer(key.key)});
}

TEST_CASE("an expired automation key is refused with 401", "[e2e][v1][401]") {
  auto& stack = shared_stack();
  testing::AutomationKeySpec spec;
  spec.name = "expires-soon";
  // A whole second, so that the RFC 3339 text (whole seconds) keeps all of the 5 s before it:
  // room for the first call on a loaded machine.
  const auto expiry = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + std::chrono::seconds(5);
  spec.expires_at = timeutil::format_utc(expiry);
  const auto key = stack.create_automation_key(spec);
  check_accepted_by_auth(stack, key.key);

  // Wait past the expiry.
  std::this_thread::sleep_until(expiry + std::chrono::milliseconds(200));
  check_refused(stack, {http::bearer(key.key)});
}
