// The audit trail of the v1 API: every call, allowed or denied (scope, IP allowlist, rate limit),
// is recorded with key, action, outcome, server, operation, run_id, client address, command, env
// key names (never values), run_context, exit code and bounded output; operators read it with
// filters, and see the operations of one key or one CI run together.
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/secret_checks.hpp"

#include "common/time.hpp"
#include "tests/support/recording_runtime.hpp"

#include <algorithm>
#include <set>
#include <thread>

using namespace tether;
using namespace tether::e2e;

namespace {

const std::string run_a = "audit-run-a";
const std::string run_b = "audit-run-b";
const std::string failing_command = "echo out-line; echo err-line >&2; exit 3";
const std::string chatty_command = "head -c 10000 /dev/zero | tr '\\000' x";
constexpr std::size_t output_bound = 4096;

// The calls are made once, in two phases a few seconds apart (so that since/until can split
// them), and every test case reads the trail they left.
struct AuditScenario {
  testing::TestDatabase database;
  testing::TempDir runtime_dir{"tether-runtime"};
  testing::RecordingRuntime runtime{runtime_dir.path()};
  testing::TetherStack stack;
  std::string secret = "audit-secret-" + crypto::hex_encode(crypto::random_bytes(16));
  boost::json::object run_context{{"provider", "github_actions"}, {"repository", "acme/app"},
                                  {"workflow", "deploy"},         {"actor", "octo"},
                                  {"sha", "abc123"},              {"ref", "refs/heads/main"}};
  std::string server_a, server_b;
  testing::AutomationKey full_key, exec_only_key, office_key, slow_key;
  std::string failing_operation, chatty_operation, restart_operation;
  std::string between_phases;  // RFC 3339, after every phase-1 call and before every phase-2 call

  AuditScenario() : stack(database, options(runtime)) {
    server_a = stack.agent(0).server_id;
    server_b = stack.agent(1).server_id;
    full_key = make_key("full", {}, std::nullopt, std::nullopt);
    exec_only_key = make_key("exec-only", {"exec"}, std::nullopt, std::nullopt);
    office_key = make_key("office", {}, std::vector<std::string>{"10.0.0.0/8"}, std::nullopt);
    slow_key = make_key("slow", {}, std::nullopt, 1);
    auto client = stack.client();

    // Phase 1: two execs by the full key in run A, and a restart the exec-only key may not do.
    auto failing = exec_body(server_a, failing_command);
    failing["env"] = {{"AUDIT_SECRET", secret}, {"PLAIN", "plain"}};
    failing["run_id"] = run_a;
    failing["run_context"] = run_context;
    failing_operation = operation_of(testing::exec(client, full_key.key, failing));
    auto chatty = exec_body(server_a, chatty_command);
    chatty["run_id"] = run_a;
    chatty_operation = operation_of(testing::exec(client, full_key.key, chatty));
    auto denied_restart = restart_body(server_a, "web");
    denied_restart["run_id"] = run_a;
    expect(testing::v1_post(client, exec_only_key.key, "/restart", denied_restart), 403);

    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    between_phases = timeutil::format_utc(std::chrono::system_clock::now());  // whole seconds, rounded down
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));

    // Phase 2: a restart on server B in run B and a poll by the full key; an IP allowlist
    // denial; a rate limit denial.
    auto restart = restart_body(server_b, "web");
    restart["run_id"] = run_b;
    restart_operation = operation_of(testing::v1_post(client, full_key.key, "/restart", restart));
    expect(testing::get_operation(client, full_key.key, failing_operation), 200);
    expect(testing::exec(client, office_key.key, exec_body(server_a, "true")), 403);
    expect(testing::exec(client, slow_key.key, exec_body(server_a, "true")), 200);
    expect(testing::exec(client, slow_key.key, exec_body(server_a, "true")), 429);
  }

  static testing::StackOptions options(const testing::RecordingRuntime& runtime) {
    testing::StackOptions out;
    out.agents = 2;
    out.container_runtime = runtime.path().string();
    return out;
  }

  testing::AutomationKey make_key(const std::string& name, std::vector<std::string> operations,
                                  std::optional<std::vector<std::string>> allowlist, std::optional<int> rate) {
    testing::AutomationKeySpec spec;
    spec.name = name;
    spec.allowed_operations = std::move(operations);
    spec.ip_allowlist = std::move(allowlist);
    spec.rate_limit_per_minute = rate;
    return stack.create_automation_key(spec);
  }

  static void expect(const http::Response& response, unsigned status) {
    if (response.status != status) {
      throw std::runtime_error("audit scenario: expected HTTP " + std::to_string(status) + ", got " + describe(response));
    }
  }

  static std::string operation_of(const http::Response& response) {
    expect(response, 200);
    return string_field(json_object(response), "operation_id");
  }

  // GET /api/audit?<query>, only the v1 entries (operator actions, if recorded, are not the subject).
  boost::json::array v1_entries(const std::string& query) {
    const auto answer = admin_get(stack, "/api/audit?" + query);
    boost::json::array out;
    for (const auto& entry : array_field(answer, "entries")) {
      const auto& object = entry.as_object();
      const auto* action = object.if_contains("action");
      if (action && action->is_string() && std::string_view(action->as_string()).starts_with("v1.")) out.push_back(entry);
    }
    return out;
  }
};

AuditScenario& scenario() {
  static AuditScenario shared;
  return shared;
}

std::multiset<std::string> actions_of(const boost::json::array& entries) {
  std::multiset<std::string> out;
  for (const auto& entry : entries) out.insert(string_field(entry.as_object(), "action"));
  return out;
}

// The entry of the call `action` that concerned `operation_id` (a poll of it is another entry).
const boost::json::object& entry_for(const boost::json::array& entries, const std::string& action,
                                     const std::string& operation_id) {
  for (const auto& entry : entries) {
    const auto& object = entry.as_object();
    if (object.at("operation_id") == boost::json::value(operation_id) &&
        object.at("action") == boost::json::value(action)) {
      return object;
    }
  }
  FAIL("no " << action << " audit entry for operation " << operation_id << " in " << boost::json::serialize(entries));
  throw std::logic_error("unreachable");
}

std::set<std::string> operation_ids(const boost::json::object& answer) {
  std::set<std::string> out;
  for (const auto& operation : array_field(answer, "operations")) {
    out.insert(string_field(operation.as_object(), "operation_id"));
  }
  return out;
}

std::vector<std::string> sorted_strings(const boost::json::value& value) {
  REQUIRE(value.is_array());
  auto out = strings_of(value.as_array());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("an allowed exec is audited with key, server, operation, run, client address, command, env key names, "
          "run_context, exit code and output",
          "[e2e][audit]") {
  auto& s = scenario();
  const auto entries = s.v1_entries("key_id=" + s.full_key.id);
  CHECK(actions_of(entries) == std::multiset<std::string>{"v1.exec", "v1.exec", "v1.restart", "v1.operations.get"});
  for (const auto& entry : entries) CHECK(string_field(entry.as_object(), "key_id") == s.full_key.id);

  const auto& failing = entry_for(entries, "v1.exec", s.failing_operation);
  INFO(boost::json::serialize(failing));
  CHECK(failing.contains("id"));
  CHECK(is_rfc3339_utc(failing.at("at")));
  CHECK(string_field(failing, "action") == "v1.exec");
  CHECK(string_field(failing, "outcome") == "allowed");
  CHECK(int_field(failing, "status_code") == 200);
  CHECK(string_field(failing, "server_id") == s.server_a);
  CHECK(string_field(failing, "run_id") == run_a);
  CHECK(string_field(failing, "client_ip") == "127.0.0.1");
  const auto& detail = failing.at("detail").as_object();
  CHECK(string_field(detail, "command") == failing_command);
  CHECK(sorted_strings(detail.at("env_keys")) == std::vector<std::string>{"AUDIT_SECRET", "PLAIN"});
  CHECK(detail.at("run_context") == boost::json::value(s.run_context));
  CHECK(int_field(failing, "exit_code") == 3);
  CHECK(string_field(failing, "stdout") == "out-line\n");
  CHECK(string_field(failing, "stderr") == "err-line\n");
}

TEST_CASE("audited stdout and stderr are bounded to 4 KiB", "[e2e][audit]") {
  auto& s = scenario();
  const auto entries = s.v1_entries("key_id=" + s.full_key.id);
  const auto& chatty = entry_for(entries, "v1.exec", s.chatty_operation);
  INFO(boost::json::serialize(chatty).substr(0, 300));
  const std::string stdout_text = string_field(chatty, "stdout");
  CHECK_FALSE(stdout_text.empty());
  CHECK(stdout_text.size() <= output_bound);
  CHECK(stdout_text.find_first_not_of('x') == std::string::npos);
  // The operation itself keeps the whole output (read through the operator API: a v1 poll would
  // add to the trail the other cases count).
  const auto operation = operator_operation(s.stack, s.chatty_operation);
  CHECK(string_field(operation.at("result").as_object(), "stdout") == std::string(10000, 'x'));
}

TEST_CASE("denied calls are audited: operation scope, IP allowlist and rate limit, with status code and reason",
          "[e2e][audit]") {
  auto& s = scenario();
  {
    const auto scope = s.v1_entries("key_id=" + s.exec_only_key.id);
    REQUIRE(scope.size() == 1);
    const auto& denied = scope.at(0).as_object();
    INFO(boost::json::serialize(denied));
    CHECK(string_field(denied, "action") == "v1.restart");
    CHECK(string_field(denied, "outcome") == "denied");
    CHECK(int_field(denied, "status_code") == 403);
    CHECK(string_field(denied, "client_ip") == "127.0.0.1");
    CHECK(string_field(denied, "run_id") == run_a);
    CHECK(string_field(denied, "server_id") == s.server_a);
    CHECK(denied.at("operation_id").is_null());
    CHECK_FALSE(string_field(denied.at("detail").as_object(), "reason").empty());
  }

  // Found by status code, so that an entry recorded without its key still shows here.
  const auto all = s.v1_entries("limit=1000");
  const auto find_status = [&](std::int64_t code) -> const boost::json::object* {
    for (const auto& entry : all) {
      const auto* status = entry.as_object().if_contains("status_code");
      if (status && status->is_int64() && status->as_int64() == code &&
          entry.as_object().at("outcome") == boost::json::value("denied") &&
          entry.as_object().at("action") == boost::json::value("v1.exec")) {
        return &entry.as_object();
      }
    }
    return nullptr;
  };
  const auto* allowlist = find_status(403);
  INFO(boost::json::serialize(all));
  REQUIRE(allowlist != nullptr);
  INFO("IP allowlist denial: " << boost::json::serialize(*allowlist));
  CHECK(allowlist->at("key_id") == boost::json::value(s.office_key.id));
  CHECK(string_field(*allowlist, "client_ip") == "127.0.0.1");
  CHECK(string_field(allowlist->at("detail").as_object(), "reason").find("allowlist") != std::string::npos);

  const auto* limited = find_status(429);
  REQUIRE(limited != nullptr);
  INFO("rate limit denial: " << boost::json::serialize(*limited));
  CHECK(limited->at("key_id") == boost::json::value(s.slow_key.id));
  CHECK(string_field(*limited, "client_ip") == "127.0.0.1");
  CHECK_FALSE(string_field(limited->at("detail").as_object(), "reason").empty());
}

TEST_CASE("the audit filters select by server, run, action, time and count", "[e2e][audit]") {
  auto& s = scenario();
  SECTION("server_id") {
    const auto on_b = s.v1_entries("server_id=" + s.server_b);
    REQUIRE(on_b.size() == 1);
    CHECK(on_b.at(0).as_object().at("operation_id") == boost::json::value(s.restart_operation));
  }
  SECTION("run_id") {
    const auto run = s.v1_entries("run_id=" + run_a);
    // A poll of one of the run's operations may count as part of the run; the calls that carried
    // the run_id must.
    auto actions = actions_of(run);
    actions.erase("v1.operations.get");
    CHECK(actions == std::multiset<std::string>{"v1.exec", "v1.exec", "v1.restart"});
    for (const auto& entry : run) CHECK(string_field(entry.as_object(), "run_id") == run_a);
  }
  SECTION("action") {
    const auto restarts = s.v1_entries("action=v1.restart");
    REQUIRE(restarts.size() == 2);
    std::multiset<std::string> outcomes;
    for (const auto& entry : restarts) outcomes.insert(string_field(entry.as_object(), "outcome"));
    CHECK(outcomes == std::multiset<std::string>{"allowed", "denied"});
  }
  SECTION("since and until") {
    const auto later = s.v1_entries("since=" + s.between_phases);
    CHECK(actions_of(later) ==
          std::multiset<std::string>{"v1.restart", "v1.operations.get", "v1.exec", "v1.exec", "v1.exec"});
    const auto earlier = s.v1_entries("until=" + s.between_phases);
    CHECK(actions_of(earlier) == std::multiset<std::string>{"v1.exec", "v1.exec", "v1.restart"});
    const auto both = s.v1_entries("key_id=" + s.full_key.id + "&since=" + s.between_phases);
    CHECK(actions_of(both) == std::multiset<std::string>{"v1.restart", "v1.operations.get"});
  }
  SECTION("limit") {
    const auto answer = admin_get(s.stack, "/api/audit?limit=2");
    CHECK(array_field(answer, "entries").size() == 2);
  }
}

TEST_CASE("env values appear in no audit entry, operation view or database row", "[e2e][audit][secrets]") {
  auto& s = scenario();
  const auto forms = encodings_of(s.secret);
  CHECK_FALSE(contains_any(s.stack.admin("GET", "/api/audit").body, forms));
  CHECK_FALSE(contains_any(s.stack.admin("GET", "/api/operations?run_id=" + run_a).body, forms));
  CHECK_FALSE(contains_any(s.stack.admin("GET", "/api/automation-keys/" + s.full_key.id + "/operations").body, forms));
  check_stored_nowhere(s.stack, s.secret);
}

TEST_CASE("an automation key's operations and a CI run's operations are listed together", "[e2e][audit]") {
  auto& s = scenario();
  const auto by_key = admin_get(s.stack, "/api/automation-keys/" + s.full_key.id + "/operations");
  CHECK(operation_ids(by_key) ==
        std::set<std::string>{s.failing_operation, s.chatty_operation, s.restart_operation});
  CHECK(array_field(admin_get(s.stack, "/api/automation-keys/" + s.exec_only_key.id + "/operations"), "operations")
            .empty());

  const auto run = admin_get(s.stack, "/api/operations?run_id=" + run_a);
  CHECK(operation_ids(run) == std::set<std::string>{s.failing_operation, s.chatty_operation});
  CHECK(operation_ids(admin_get(s.stack, "/api/operations?run_id=" + run_b)) ==
        std::set<std::string>{s.restart_operation});

  for (const auto& operation : array_field(run, "operations")) {
    const auto& view = operation.as_object();
    if (view.at("operation_id") != boost::json::value(s.failing_operation)) continue;
    INFO(boost::json::serialize(view));
    CHECK(string_field(view, "operation_type") == "exec");
    CHECK(string_field(view, "status") == "completed");
    CHECK(string_field(view, "run_id") == run_a);
    CHECK(int_field(view.at("result").as_object(), "exit_code") == 3);
    CHECK(string_field(view.at("result").as_object(), "stdout") == "out-line\n");
    CHECK(sorted_strings(view.at("env_keys")) == std::vector<std::string>{"AUDIT_SECRET", "PLAIN"});
    CHECK(view.at("run_context") == boost::json::value(s.run_context));
    CHECK(view.contains("status_detail"));
    CHECK(view.contains("created_by"));
  }
  const auto one = admin_get(s.stack, "/api/operations/" + s.failing_operation);
  CHECK(string_field(one, "operation_id") == s.failing_operation);
}
