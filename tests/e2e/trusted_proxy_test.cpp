// With --trusted-proxies 127.0.0.1/32 the controller takes the client address from X-Forwarded-For
// when the socket peer (here always 127.0.0.1) is that proxy. The same requests against a
// controller without the flag are in ip_allowlist_test.cpp: there the header is ignored.
#include "tests/e2e/ci_api.hpp"

using namespace tether;
using namespace tether::e2e;

namespace {

testing::TetherStack& proxied_stack() {
  testing::StackOptions options;
  options.trusted_proxies = {"127.0.0.1/32"};
  return shared_stack(options);
}

testing::AutomationKey documentation_net_key(testing::TetherStack& stack) {
  testing::AutomationKeySpec spec;
  spec.name = "behind-proxy";
  spec.ip_allowlist = std::vector<std::string>{"203.0.113.0/24"};
  return stack.create_automation_key(spec);
}

http::Response exec_via_proxy(testing::TetherStack& stack, const testing::AutomationKey& key,
                              const http::Headers& headers) {
  auto client = stack.client();
  return testing::v1_post(client, key.key, "/exec", exec_body(stack.server_id(), "echo allowed"), headers);
}

}  // namespace

TEST_CASE("behind a trusted proxy, an X-Forwarded-For address inside the allowlist is allowed", "[e2e][ip]") {
  auto& stack = proxied_stack();
  const auto response = exec_via_proxy(stack, documentation_net_key(stack), {{"X-Forwarded-For", "203.0.113.7"}});
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(string_field(json_object(response), "stdout") == "allowed\n");
}

TEST_CASE("behind a trusted proxy, an X-Forwarded-For address outside the allowlist is refused naming it",
          "[e2e][ip][403]") {
  auto& stack = proxied_stack();
  const auto response = exec_via_proxy(stack, documentation_net_key(stack), {{"X-Forwarded-For", "198.51.100.9"}});
  check_error(response, 403);
  CHECK(json_object(response).at("detail") ==
        boost::json::value("client address 198.51.100.9 is not in this key's IP allowlist"));
}

TEST_CASE("behind a trusted proxy, a request without X-Forwarded-For is judged by the socket address",
          "[e2e][ip][403]") {
  auto& stack = proxied_stack();
  const auto response = exec_via_proxy(stack, documentation_net_key(stack), {});
  check_error(response, 403);
  CHECK(json_object(response).at("detail") ==
        boost::json::value("client address 127.0.0.1 is not in this key's IP allowlist"));
}
