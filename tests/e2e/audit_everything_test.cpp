// The audit of everything (issue 11 §5): a logged-in admin, calling from its own address through a
// trusted proxy, logs in, fails, gets an address locked out, adds a user, changes its password and
// removes it, makes and revokes an API key and an automation key, creates, updates and
// decommissions a server, makes a registry credential, an application, a job (triggered once by
// hand) and a webhook trigger, cancels an operation and a run, sets up TOTP and logs out; a
// viewer is refused an admin route. Each action has its entry in GET /api/audit with actor, client
// address, target and outcome, and seed 004's fields (time in Unix seconds, username, action, details, ip); the
// username, actor and action_prefix filters select them. Afterwards no password, session token,
// TOTP secret, tak_/rca_/tat_ secret or webhook secret is in a pg_dump of the database or in the
// controller's log. The login limits come from their flags (3 failures lock an address for 120 s).
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/secret_checks.hpp"
#include "tests/support/automation_api.hpp"

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>

using namespace tether;
using namespace tether::e2e;

namespace {

const std::string admin_address = "198.51.100.10";
const std::string failing_address = "198.51.100.20";
const std::string locked_address = "198.51.100.30";
const std::string viewer_address = "198.51.100.40";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A caller with a session token from an address (X-Forwarded-For; 127.0.0.1 is a trusted proxy).
struct Caller {
  http::Client client;
  std::string address;
  std::string token;

  http::Response call(std::string_view method, const std::string& target, const boost::json::object* body = nullptr) {
    http::Headers headers{{"X-Forwarded-For", address}, {"Content-Type", "application/json"}};
    if (!token.empty()) headers.push_back(http::bearer(token));
    return client.request(method, target, body ? boost::json::serialize(*body) : std::string(), headers);
  }
  // `method target` must answer `expected`; returns the JSON answer (an empty object for none).
  boost::json::object expect(std::string_view method, const std::string& target, const boost::json::object& body,
                             unsigned expected) {
    const auto response = call(method, target, &body);
    INFO(method << " " << target << " -> " << describe(response));
    REQUIRE(response.status == expected);
    if (response.body.empty()) return {};
    const auto parsed = boost::json::parse(response.body);
    return parsed.is_object() ? parsed.as_object() : boost::json::object{};
  }
  boost::json::object expect(std::string_view method, const std::string& target, unsigned expected) {
    const auto response = call(method, target);
    INFO(method << " " << target << " -> " << describe(response));
    REQUIRE(response.status == expected);
    if (response.body.empty()) return {};
    const auto parsed = boost::json::parse(response.body);
    return parsed.is_object() ? parsed.as_object() : boost::json::object{};
  }
};

// Every string in `value` that starts with `prefix` (secrets in an answer, wherever they are).
void strings_with_prefix(const boost::json::value& value, const std::string& prefix, std::vector<std::string>& out) {
  if (value.is_string()) {
    const std::string text(value.as_string());
    if (text.rfind(prefix, 0) == 0) out.push_back(text);
  } else if (value.is_object()) {
    for (const auto& field : value.as_object()) strings_with_prefix(field.value(), prefix, out);
  } else if (value.is_array()) {
    for (const auto& item : value.as_array()) strings_with_prefix(item, prefix, out);
  }
}

struct Expected {
  std::string action, actor, ip;
  std::optional<std::string> target;  // nullopt: any non-null target
  std::string outcome = "allowed";
  std::string username;               // seed 004's
  std::string details_hint = {};      // a piece the details line must hold
};

// The entries of the audit log (newest first), read with the stack's admin key.
std::vector<boost::json::object> audit(testing::TetherStack& stack, const std::string& query = "") {
  const auto response = stack.admin("GET", "/api/audit?limit=1000" + query);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  std::vector<boost::json::object> out;
  const auto body = boost::json::parse(response.body);
  for (const auto& entry : body.as_object().at("entries").as_array()) out.push_back(entry.as_object());
  return out;
}

}  // namespace

TEST_CASE("every kind of change, login and refusal is audited with actor, address, target, outcome and seed 004's "
          "fields; no secret is stored or logged",
          "[e2e][audit]") {
  testing::StackOptions options;
  options.master_key = true;
  options.trusted_proxies = {"127.0.0.1/32"};
  options.sync_wait_cap_seconds = 1;
  options.controller_args = {"--login-max-failures", "3", "--login-lockout-seconds", "120"};
  testing::TestDatabase database;
  testing::TetherStack stack(database, options);
  const auto started = unix_now();
  std::vector<std::string> secrets{stack.admin_key(), stack.agent(0).token};
  std::vector<Expected> expected;

  const std::string admin_password = "AuditAdmin-" + crypto::hex_encode(crypto::random_bytes(6)) + "1!";
  {
    const auto added = stack.admin("POST", "/api/admin/users",
                                   boost::json::serialize(boost::json::object{{"action", "add"},
                                                                              {"username", "auditor"},
                                                                              {"password", admin_password},
                                                                              {"role", "admin"}}));
    INFO(describe(added));
    REQUIRE(added.status == 200);
  }
  secrets.push_back(admin_password);
  const auto login = [&](const std::string& address, const std::string& username, const std::string& password) {
    return stack.client().post(
        "/api/login", boost::json::serialize(boost::json::object{{"username", username}, {"password", password}}),
        {{"X-Forwarded-For", address}, {"Content-Type", "application/json"}});
  };

  INFO("login, from the admin's address");
  const auto logged_in = login(admin_address, "auditor", admin_password);
  INFO(describe(logged_in));
  REQUIRE(logged_in.status == 200);
  Caller me{stack.client(), admin_address, string_field(json_object(logged_in), "token")};
  secrets.push_back(me.token);
  expected.push_back({"login", "user:auditor", admin_address, std::nullopt, "allowed", "auditor", "username=auditor"});

  INFO("a failed login, from another address");
  check_error(login(failing_address, "auditor", "Wrong-password-1"), 401);
  expected.push_back({"login_failed", "anonymous", failing_address, std::nullopt, "denied", "anonymous",
                      "reason=wrong password"});

  INFO("three failed logins lock an address (--login-max-failures 3) for at most 120 s (--login-lockout-seconds)");
  for (int i = 0; i < 3; ++i) check_error(login(locked_address, "ghost", "Guess-" + std::to_string(i)), 401);
  {
    const auto locked = login(locked_address, "ghost", "Guess-3");
    check_error(locked, 429);
    const auto retry_after = std::stoi(locked.header("Retry-After").value_or("0"));
    CHECK(retry_after > 60);
    CHECK(retry_after <= 120);
  }
  expected.push_back({"login_locked", "anonymous", locked_address, locked_address, "denied", "anonymous",
                      "scope=address"});

  INFO("a user added, its password changed; a viewer is refused an admin route; the user removed");
  const std::string viewer_password = "ViewerPass-" + crypto::hex_encode(crypto::random_bytes(4)) + "1";
  const std::string viewer_password_2 = "ViewerPass-" + crypto::hex_encode(crypto::random_bytes(4)) + "2";
  secrets.insert(secrets.end(), {viewer_password, viewer_password_2});
  me.expect("POST", "/api/admin/users",
            {{"action", "add"}, {"username", "vera"}, {"password", viewer_password}, {"role", "viewer"}}, 200);
  expected.push_back({"user_add", "user:auditor", admin_address, std::nullopt, "allowed", "auditor", "username=vera"});
  me.expect("POST", "/api/admin/users",
            {{"action", "change_password"}, {"username", "vera"}, {"password", viewer_password_2}}, 200);
  expected.push_back(
      {"user_password_change", "user:auditor", admin_address, std::nullopt, "allowed", "auditor", "username=vera"});
  {
    const auto vera_login = login(viewer_address, "vera", viewer_password_2);
    REQUIRE(vera_login.status == 200);
    Caller vera{stack.client(), viewer_address, string_field(json_object(vera_login), "token")};
    secrets.push_back(vera.token);
    check_error(vera.call("GET", "/api/audit"), 403);
    const boost::json::object wrong{{"current_password", "Not-her-password-1"}, {"new_password", "Another-Pass-3"}};
    check_error(vera.call("POST", "/api/profile/password", &wrong), 403);
  }
  expected.push_back({"user_password_change", "user:vera", viewer_address, std::nullopt, "denied", "vera",
                      "reason=current password did not match"});
  expected.push_back({"access.denied", "user:vera", viewer_address, std::string("GET /api/audit"), "denied", "vera",
                      "status 403"});
  me.expect("POST", "/api/admin/users", {{"action", "remove"}, {"username", "vera"}}, 200);
  expected.push_back({"user_remove", "user:auditor", admin_address, std::nullopt, "allowed", "auditor", "username=vera"});

  INFO("an operator API key made and revoked");
  const auto api_key = me.expect("POST", "/api/admin/api-keys", {{"name", "audit-bot"}, {"role", "viewer"}}, 201);
  const auto api_key_id = string_field(api_key, "id");
  secrets.push_back(string_field(api_key, "key"));
  me.expect("DELETE", "/api/admin/api-keys/" + api_key_id, 200);
  expected.push_back({"api_keys.create", "user:auditor", admin_address, api_key_id, "allowed", "auditor", "role=viewer"});
  expected.push_back({"api_keys.revoke", "user:auditor", admin_address, api_key_id, "allowed", "auditor"});

  INFO("an automation key made and revoked");
  const auto automation_key = me.expect("POST", "/api/automation-keys", {{"name", "audit-ci"}}, 201);
  const auto automation_key_id = string_field(automation_key, "id");
  secrets.push_back(string_field(automation_key, "key"));
  me.expect("DELETE", "/api/automation-keys/" + automation_key_id, 200);
  expected.push_back(
      {"automation_keys.create", "user:auditor", admin_address, automation_key_id, "allowed", "auditor", "name=audit-ci"});
  expected.push_back({"automation_keys.revoke", "user:auditor", admin_address, automation_key_id, "allowed", "auditor"});

  INFO("a server created, updated, decommissioned");
  const auto server = me.expect("POST", "/api/servers", {{"name", "audit-web-1"}}, 201);
  const auto server_id = string_field(server, "id");
  strings_with_prefix(server, "tat_", secrets);
  me.expect("PATCH", "/api/servers/" + server_id, {{"tags", boost::json::array{"web"}}}, 200);
  me.expect("DELETE", "/api/servers/" + server_id, 200);
  for (const auto* action : {"servers.create", "servers.update", "servers.decommission"}) {
    expected.push_back({action, "user:auditor", admin_address, server_id, "allowed", "auditor"});
  }

  INFO("a registry credential made and deleted");
  const auto registry_password = new_registry_password();
  secrets.push_back(registry_password);
  const auto credential = me.expect("POST", "/api/registry-credentials",
                                    {{"name", "audit-registry"},
                                     {"registry_url", "ghcr.io"},
                                     {"registry_type", "ghcr"},
                                     {"username", "octo"},
                                     {"password", registry_password}},
                                    201);
  const auto credential_id = string_field(credential, "id");
  me.expect("DELETE", "/api/registry-credentials/" + credential_id, 200);
  expected.push_back({"registry_credentials.create", "user:auditor", admin_address, credential_id, "allowed", "auditor"});
  expected.push_back({"registry_credentials.delete", "user:auditor", admin_address, credential_id, "allowed", "auditor"});

  INFO("an application made and deleted");
  const auto application = me.expect("POST", "/api/applications",
                                     {{"name", "audit-app"},
                                      {"server_id", stack.server_id()},
                                      {"directory", (stack.dir() / "audit-app").string()},
                                      {"deploy_branch", "main"},
                                      {"deploy_command", "true"}},
                                     201);
  const auto application_id = string_field(application, "id");
  me.expect("DELETE", "/api/applications/" + application_id, 200);
  expected.push_back({"applications.create", "user:auditor", admin_address, application_id, "allowed", "auditor"});
  expected.push_back({"applications.delete", "user:auditor", admin_address, application_id, "allowed", "auditor"});

  INFO("a job and its webhook trigger made, changed and deleted");
  const auto job = me.expect("POST", "/api/automation/jobs",
                             {{"name", "audit-job"},
                              {"operation", testing::exec_operation("true", 30)},
                              {"targets", testing::server_targets({stack.server_id()})}},
                             201);
  const auto job_id = string_field(testing::object_at(job, "job"), "id");
  me.expect("PATCH", "/api/automation/jobs/" + job_id, {{"name", "audit-job-renamed"}}, 200);
  const auto fired = me.expect("POST", "/api/automation/jobs/" + job_id + "/trigger", {}, 201);
  expected.push_back({"jobs.trigger", "user:auditor", admin_address, string_field(testing::object_at(fired, "run"), "id"),
                      "allowed", "auditor"});
  const auto trigger = me.expect(
      "POST", "/api/automation/triggers",
      {{"name", "audit-hook"}, {"job_id", job_id}, {"event", "webhook"}, {"endpoint_slug", "audit-hook"}}, 201);
  strings_with_prefix(trigger, "whsec_", secrets);
  const auto trigger_id = string_field(testing::object_at(trigger, "trigger"), "id");
  const auto rotated = me.expect("POST", "/api/automation/triggers/" + trigger_id + "/rotate-secret", {}, 200);
  strings_with_prefix(rotated, "whsec_", secrets);
  CHECK(secrets.back().rfind("whsec_", 0) == 0);
  me.expect("DELETE", "/api/automation/triggers/" + trigger_id, 204);
  me.expect("DELETE", "/api/automation/jobs/" + job_id, 204);
  for (const auto* action : {"jobs.create", "jobs.update", "jobs.delete"}) {
    expected.push_back({action, "user:auditor", admin_address, job_id, "allowed", "auditor"});
  }
  for (const auto* action : {"triggers.create", "triggers.rotate_secret", "triggers.delete"}) {
    expected.push_back({action, "user:auditor", admin_address, trigger_id, "allowed", "auditor"});
  }

  INFO("an operation canceled");
  const auto ci_key = stack.create_automation_key({.name = "audit-runner"});
  secrets.push_back(ci_key.key);
  const auto release = stack.dir() / "audit-release";
  auto ci_client = stack.client();
  const auto running = testing::exec(ci_client, ci_key.key,
                                     exec_body(stack.server_id(), wait_for_file_snippet(release, 60)));
  INFO(describe(running));
  REQUIRE(running.status == 200);
  const auto operation_id = string_field(json_object(running), "operation_id");
  me.expect("POST", "/api/operations/" + operation_id + "/cancel", 202);
  expected.push_back({"operations.cancel", "user:auditor", admin_address, operation_id, "allowed", "auditor"});

  INFO("a run created and canceled");
  const auto run = me.expect("POST", "/api/automation/runs",
                             {{"operation", testing::exec_operation(wait_for_file_snippet(release, 60), 90)},
                              {"targets", testing::server_targets({stack.server_id()})}},
                             201);
  const auto run_id = string_field(testing::object_at(run, "run"), "id");
  me.expect("POST", "/api/automation/runs/" + run_id + "/cancel", 202);
  expected.push_back({"runs.create", "user:auditor", admin_address, run_id, "allowed", "auditor"});
  expected.push_back({"runs.cancel", "user:auditor", admin_address, run_id, "allowed", "auditor"});
  std::ofstream(release).put('\n');

  INFO("TOTP set up, then logout");
  const auto totp = me.expect("POST", "/api/auth/totp/setup", 200);
  secrets.push_back(string_field(totp, "secret"));
  expected.push_back({"totp_setup", "user:auditor", admin_address, std::nullopt, "allowed", "auditor"});
  me.expect("POST", "/api/logout", 200);
  expected.push_back({"logout", "user:auditor", admin_address, std::nullopt, "allowed", "auditor"});
  const auto finished = unix_now();

  // One stack and one pass of actions: plain blocks, not SECTIONs (each would redo them all).
  {
    INFO("each action's entry: actor, address, target, outcome, and seed 004's fields");
    const auto entries = audit(stack);
    for (const auto& want : expected) {
      INFO("action " << want.action << " by " << want.actor << " from " << want.ip);
      const boost::json::object* found = nullptr;
      for (const auto& entry : entries) {
        if (entry.at("action") == boost::json::value(want.action) && entry.at("actor") == boost::json::value(want.actor) &&
            entry.at("client_ip") == boost::json::value(want.ip) &&
            (!want.target || entry.at("target") == boost::json::value(*want.target))) {
          found = &entry;
          break;
        }
      }
      REQUIRE(found != nullptr);
      const auto& entry = *found;
      INFO(boost::json::serialize(entry));
      CHECK(entry.at("target").is_string());
      CHECK(string_field(entry, "outcome") == want.outcome);
      CHECK(is_rfc3339_utc(entry.at("at")));
      // Seed 004's entry shape.
      REQUIRE(entry.at("time").is_int64());
      CHECK(entry.at("time").as_int64() >= started - 2);
      CHECK(entry.at("time").as_int64() <= finished + 2);
      CHECK(string_field(entry, "username") == want.username);
      CHECK(string_field(entry, "action") == want.action);
      CHECK(string_field(entry, "ip") == want.ip);
      const auto details = string_field(entry, "details");
      CHECK_FALSE(details.empty());
      if (!want.details_hint.empty()) CHECK(details.find(want.details_hint) != std::string::npos);
    }
  }

  {
    INFO("filters: username (the user's entries), actor, action_prefix; the old ones still work");
    const auto mine = audit(stack, "&username=auditor");
    std::set<std::string> actions;
    for (const auto& entry : mine) {
      CHECK(entry.at("actor") == "user:auditor");
      actions.insert(string_field(entry, "action"));
    }
    for (const auto& want : expected) {
      if (want.actor == "user:auditor") CHECK(actions.count(want.action) == 1);
    }
    CHECK(audit(stack, "&actor=user:auditor").size() == mine.size());
    const auto anonymous = audit(stack, "&actor=anonymous");
    CHECK(anonymous.size() >= 2);
    for (const auto& entry : anonymous) CHECK(string_field(entry, "username") == "anonymous");

    const auto servers = audit(stack, "&action_prefix=servers.");
    CHECK(servers.size() >= 3);
    for (const auto& entry : servers) CHECK(string_field(entry, "action").rfind("servers.", 0) == 0);
    const auto exact = audit(stack, "&action=servers.update&username=auditor");
    REQUIRE(exact.size() == 1);
    CHECK(string_field(exact.front(), "target") == server_id);
  }

  {
    INFO("no password, session token, TOTP secret, key, agent token or webhook secret in pg_dump or the log");
    CHECK(secrets.size() >= 14);
    const auto dump = stack.database().dump();
    const auto log = stack.controller_log();
    CHECK_FALSE(dump.empty());
    CHECK_FALSE(log.empty());
    for (const auto& secret : secrets) {
      INFO("secret " << secret.substr(0, 6) << "... (" << secret.size() << " characters)");
      REQUIRE(secret.size() >= 8);
      CHECK_FALSE(contains_any(dump, encodings_of(secret)));
      CHECK_FALSE(contains_any(log, encodings_of(secret)));
    }
  }
}
