// A key's IP allowlist: requests from an address outside every listed CIDR get 403 naming the
// address; IPv4 and IPv6 CIDRs are accepted at creation, malformed ones refused with 422. This
// controller has no trusted proxies, so X-Forwarded-For must not change the client address.
#include "tests/e2e/ci_api.hpp"

using namespace tether;
using namespace tether::e2e;

namespace {

testing::AutomationKey key_with_allowlist(testing::TetherStack& stack, std::vector<std::string> allowlist) {
  testing::AutomationKeySpec spec;
  spec.name = "allowlist";
  spec.ip_allowlist = std::move(allowlist);
  return stack.create_automation_key(spec);
}

http::Response exec_from(testing::TetherStack& stack, const testing::AutomationKey& key,
                         const http::Headers& headers = {}) {
  auto client = stack.client();
  return testing::v1_post(client, key.key, "/exec", exec_body(stack.server_id(), "echo allowed"), headers);
}

void check_allowed(const http::Response& response) {
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(string_field(json_object(response), "stdout") == "allowed\n");
}

void check_refused_for(const http::Response& response, const std::string& address) {
  check_error(response, 403);
  CHECK(json_object(response).at("detail") ==
        boost::json::value("client address " + address + " is not in this key's IP allowlist"));
}

}  // namespace

TEST_CASE("a key whose allowlist excludes 127.0.0.1 is refused with 403 naming the address", "[e2e][ip][403]") {
  auto& stack = shared_stack();
  const auto key = key_with_allowlist(stack, {"10.0.0.0/8"});
  CHECK(strings_of(array_field(key.created, "ip_allowlist")) == std::vector<std::string>{"10.0.0.0/8"});
  check_refused_for(exec_from(stack, key), "127.0.0.1");
  // Polls are v1 requests too.
  auto client = stack.client();
  check_error(testing::get_operation(client, key.key, ids::new_uuid()), 403);
}

TEST_CASE("a key whose allowlist includes 127.0.0.1 may run commands", "[e2e][ip]") {
  auto& stack = shared_stack();
  check_allowed(exec_from(stack, key_with_allowlist(stack, {"127.0.0.1/32"})));
  check_allowed(exec_from(stack, key_with_allowlist(stack, {"10.0.0.0/8", "127.0.0.0/8"})));
  check_allowed(exec_from(stack, key_with_allowlist(stack, {"2001:db8::/32", "127.0.0.1"})));
}

TEST_CASE("without trusted proxies X-Forwarded-For does not change the client address", "[e2e][ip][403]") {
  auto& stack = shared_stack();
  const auto key = key_with_allowlist(stack, {"203.0.113.0/24"});
  check_refused_for(exec_from(stack, key, {{"X-Forwarded-For", "203.0.113.7"}}), "127.0.0.1");
}

TEST_CASE("IPv6 CIDRs are accepted in an allowlist; an IPv4 client outside them is refused", "[e2e][ip][403]") {
  auto& stack = shared_stack();
  const auto key = key_with_allowlist(stack, {"2001:db8::/32", "::1/128", "fd00::/8"});
  CHECK(strings_of(array_field(key.created, "ip_allowlist")) ==
        std::vector<std::string>{"2001:db8::/32", "::1/128", "fd00::/8"});
  check_refused_for(exec_from(stack, key), "127.0.0.1");
}

TEST_CASE("malformed allowlist entries are refused with 422 at creation and by PATCH", "[e2e][ip][422]") {
  auto& stack = shared_stack();
  for (const std::string entry : {"10.0.0.0/33", "10.0.0.300/8", "not-a-cidr", "", "2001:db8::/129", "10.0.0.0/",
                                  "10.0.0.0/8/8", "2001:db8:::/32"}) {
    INFO("ip_allowlist entry '" << entry << "'");
    const auto response = stack.admin("POST", "/api/automation-keys",
                                      boost::json::serialize(boost::json::object{
                                          {"name", "bad-allowlist"},
                                          {"allowed_server_ids", boost::json::array{}},
                                          {"allowed_operations", boost::json::array{}},
                                          {"ip_allowlist", boost::json::array{"127.0.0.1/32", entry}}}));
    check_error(response, 422);
  }
  const auto key = stack.create_automation_key();
  check_error(stack.admin("PATCH", "/api/automation-keys/" + key.id,
                          boost::json::serialize(boost::json::object{{"ip_allowlist", boost::json::array{"10.0.0.0/33"}}})),
              422);
}

TEST_CASE("PATCH of a key's allowlist takes effect on its next request", "[e2e][ip][403]") {
  auto& stack = shared_stack();
  const auto key = stack.create_automation_key();
  check_allowed(exec_from(stack, key));
  const auto patched =
      admin_patch(stack, "/api/automation-keys/" + key.id, {{"ip_allowlist", boost::json::array{"10.0.0.0/8"}}});
  CHECK(strings_of(array_field(patched, "ip_allowlist")) == std::vector<std::string>{"10.0.0.0/8"});
  check_refused_for(exec_from(stack, key), "127.0.0.1");
  admin_patch(stack, "/api/automation-keys/" + key.id, {{"ip_allowlist", boost::json::array{}}});
  check_allowed(exec_from(stack, key));
}
