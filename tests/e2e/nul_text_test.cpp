// A NUL character (\u0000) in any text field of any route is refused with 422 naming the field
// (PostgreSQL's text cannot hold it and its jsonb refuses it: before the check it gave 500 for
// some fields and cut others short without a word). Nothing is stored for a refused request.
#include "tests/e2e/e2e_checks.hpp"

#include <fmt/format.h>

using namespace tether;
using namespace tether::e2e;

namespace {

testing::TetherStack& stack() {
  testing::StackOptions options;
  options.master_key = true;  // registry credentials
  return shared_stack(options);
}

struct Case {
  std::string method;
  std::string target;
  std::string body;   // JSON text with a \u0000 escape in it
  std::string field;  // what the detail must begin with
};

void check_refused(http::Client& client, const Case& c, const http::Headers& headers) {
  INFO(c.method << " " << c.target << " " << c.body);
  const auto response = client.request(c.method, c.target, c.body, headers);
  check_error(response, 422);
  if (response.status == 422) {
    CHECK_THAT(string_field(json_object(response), "detail"),
               Catch::StartsWith(c.field + ": ") && Catch::Contains("NUL"));
  }
}

std::string admin_created_id(testing::TetherStack& s, const std::string& target, const boost::json::object& body) {
  const auto response = s.admin("POST", target, boost::json::serialize(body));
  INFO(describe(response));
  REQUIRE(response.status == 201);
  return string_field(json_object(response), "id");
}

}  // namespace

TEST_CASE("a NUL in any text field of an operator route is 422 naming the field", "[e2e][nul]") {
  auto& s = stack();
  auto client = s.client();
  const http::Headers admin{http::bearer(s.admin_key())};
  const auto key = s.create_automation_key();
  const auto application = admin_created_id(
      s, "/api/applications", {{"name", "nul-app"}, {"server_id", s.server_id()}, {"directory", "/srv/nul"}});
  const auto credential = admin_created_id(s, "/api/registry-credentials",
                                           {{"name", "nul-cred"},
                                            {"registry_url", "ghcr.io"},
                                            {"registry_type", "ghcr"},
                                            {"username", "u"},
                                            {"password", "p"}});
  const std::vector<Case> cases = {
      {"POST", "/api/servers", R"({"name":"web\u0000-1"})", "name"},
      {"POST", "/api/servers", R"({"name":"web-1","tags":["ok","a\u0000"]})", "tags[1]"},
      {"POST", "/api/automation-keys", R"({"name":"ci\u0000"})", "name"},
      {"POST", "/api/automation-keys", R"({"name":"ci","ip_allowlist":["10.0.0.0/8\u0000"]})", "ip_allowlist[0]"},
      {"PATCH", "/api/automation-keys/" + key.id, R"({"name":"\u0000"})", "name"},
      {"POST", "/api/registry-credentials",
       R"({"name":"c","registry_url":"ghcr.io\u0000x","registry_type":"ghcr","username":"u","password":"p"})",
       "registry_url"},
      {"POST", "/api/registry-credentials",
       R"({"name":"c","registry_url":"ghcr.io","registry_type":"ghcr","username":"u\u0000","password":"p"})",
       "username"},
      {"PATCH", "/api/registry-credentials/" + credential, R"({"password":"p\u0000q"})", "password"},
      {"POST", "/api/applications",
       fmt::format(R"({{"name":"app\u0000","server_id":"{}","directory":"/srv/a"}})", s.server_id()), "name"},
      {"POST", "/api/applications",
       fmt::format(R"({{"name":"app","server_id":"{}","directory":"/srv/a","deploy_command":"make\u0000 x"}})",
                   s.server_id()),
       "deploy_command"},
      {"PATCH", "/api/applications/" + application, R"({"deploy_branch":"main\u0000"})", "deploy_branch"},
  };
  for (const auto& c : cases) check_refused(client, c, admin);

  // Nothing of the refused requests was stored.
  const auto servers = s.admin("GET", "/api/servers");
  CHECK(servers.body.find("web") == std::string::npos);
  const auto keys = s.admin("GET", "/api/automation-keys");
  CHECK(keys.body.find(R"("name":"ci")") == std::string::npos);
}

TEST_CASE("a NUL in any text field of a v1 route is 422 naming the field", "[e2e][nul]") {
  auto& s = stack();
  auto client = s.client();
  const auto key = s.create_automation_key();
  const http::Headers bearer{http::bearer(key.key)};
  const auto server = s.server_id();
  const auto exec = [&](const std::string& extra) {
    return fmt::format(R"({{"server_id":"{}","command":"true"{}}})", server, extra);
  };
  const std::vector<Case> cases = {
      {"POST", "/api/automation/v1/exec", fmt::format(R"({{"server_id":"{}","command":"echo\u0000hi"}})", server),
       "command"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"working_directory":"/tmp\u0000")"), "working_directory"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"env":{"A":"\u0000"})"), "env.A"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"run_id":"gh-\u0000-1")"), "run_id"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"run_context":"x\u0000")"), "run_context"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"run_context":{"provider":"gh\u0000"})"), "run_context.provider"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"run_context":{"ci":{"refs":["main","x\u0000"]}})"),
       "run_context.ci.refs[1]"},
      {"POST", "/api/automation/v1/exec", exec(R"(,"run_context":{"a\u0000b":"x"})"), "run_context"},
      {"POST", "/api/automation/v1/restart",
       fmt::format(R"({{"server_id":"{}","container_name":"web\u0000"}})", server), "container_name"},
      {"POST", "/api/automation/v1/registry-auth/logout",
       fmt::format(R"({{"server_id":"{}","registry_url":"ghcr.io\u0000evil"}})", server), "registry_url"},
      {"POST", "/api/automation/v1/deploy",
       R"({"application_id":"0d6c1a8e-2f3b-4c5d-8e9f-0a1b2c3d4e5f","commit_ref":"main\u0000"})", "commit_ref"},
  };
  for (const auto& c : cases) check_refused(client, c, bearer);

  const auto operations = s.admin("GET", "/api/operations");
  REQUIRE(operations.status == 200);
  CHECK(json_object(operations).at("operations").as_array().empty());
}

TEST_CASE("a NUL in a query parameter is 422 naming the parameter", "[e2e][nul]") {
  auto& s = stack();
  auto client = s.client();
  // libpq would cut "run%00x" to "run": the filter would then match another run's rows.
  const auto response = client.get("/api/operations?run_id=run%00x", {http::bearer(s.admin_key())});
  check_error(response, 422);
  CHECK_THAT(string_field(json_object(response), "detail"), Catch::StartsWith("run_id: ") && Catch::Contains("NUL"));
}
