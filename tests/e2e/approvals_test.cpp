// Issue 11 §3: approvals end to end with a real controller and agent. Users log in; a job that
// requires approval is triggered by one of them and waits as pending_approval with nothing run on
// the agent; the requester and a non-approver are refused (403), an approver approves and the
// command runs and the run completes; a rejection cancels the run saying who and why; with a short
// --approval-timeout the request expires and its run is canceled; the audit log has each step.
#include "tests/e2e/ci_api.hpp"
#include "tests/e2e/jobs_checks.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <thread>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

testing::TetherStack& approvals_stack() { return shared_stack({}); }

// A second controller whose requests expire after 2 s.
testing::TetherStack& expiring_stack() {
  struct Shared {
    testing::TestDatabase database;
    testing::TetherStack stack;
    explicit Shared(testing::StackOptions o) : stack(database, std::move(o)) {}
  };
  static const std::unique_ptr<Shared> shared = [] {
    testing::StackOptions options;
    options.controller_args = {"--approval-timeout", "2s"};
    return std::make_unique<Shared>(std::move(options));
  }();
  return shared->stack;
}

std::string unique(const std::string& base) { return base + "-" + crypto::hex_encode(crypto::random_bytes(4)); }

// A user of `role` made through the admin API, logged in: its session token.
std::string user_session(testing::TetherStack& stack, const std::string& username, const std::string& role) {
  const std::string password = "Approv4l-" + crypto::hex_encode(crypto::random_bytes(6));
  const auto added = stack.admin("POST", "/api/admin/users",
                                 boost::json::serialize(boost::json::object{
                                     {"action", "add"}, {"username", username}, {"password", password}, {"role", role}}));
  INFO(describe(added));
  REQUIRE(added.status == 200);
  const auto login = stack.client().post(
      "/api/login", boost::json::serialize(boost::json::object{{"username", username}, {"password", password}}),
      {{"Content-Type", "application/json"}});
  INFO(describe(login));
  REQUIRE(login.status == 200);
  return string_field(json_object(login), "token");
}

struct People {
  AutomationApi alice, bob, carol, vic;  // operators alice, bob, carol; viewer vic
};

People people(testing::TetherStack& stack) {
  const auto tag = crypto::hex_encode(crypto::random_bytes(3));
  return People{AutomationApi(stack.client_options(), user_session(stack, "alice-" + tag, "operator")),
                AutomationApi(stack.client_options(), user_session(stack, "bob-" + tag, "operator")),
                AutomationApi(stack.client_options(), user_session(stack, "carol-" + tag, "operator")),
                AutomationApi(stack.client_options(), user_session(stack, "vic-" + tag, "viewer"))};
}

std::string username_of(AutomationApi& api) { return string_field(json_object(api.call("GET", "/api/me")), "username"); }

// A job whose command leaves `marker` behind: that file says whether anything ran on the agent.
boost::json::object approval_job(testing::TetherStack& stack, const std::filesystem::path& marker,
                                 const std::vector<std::string>& approvers) {
  boost::json::array names;
  for (const auto& name : approvers) names.emplace_back(name);
  return {{"name", unique("approved-job")},
          {"operation", testing::exec_operation("echo ran-after-approval; touch '" + marker.string() + "'", 30)},
          {"targets", testing::server_targets({stack.server_id()})},
          {"requires_approval", true},
          {"approvers", std::move(names)}};
}

std::filesystem::path new_marker() {
  return std::filesystem::temp_directory_path() / unique("tether-approval-marker");
}

boost::json::value answer_value(const http::Response& response, unsigned status) {
  INFO(describe(response));
  REQUIRE(response.status == status);
  return boost::json::parse(response.body);
}

boost::json::object answer(const http::Response& response, unsigned status) {
  auto value = answer_value(response, status);
  INFO(boost::json::serialize(value));
  REQUIRE(value.is_object());
  return value.as_object();
}

boost::json::array answer_array(const http::Response& response, unsigned status) {
  auto value = answer_value(response, status);
  INFO(boost::json::serialize(value));
  REQUIRE(value.is_array());
  return value.as_array();
}

std::vector<boost::json::object> audit_of_run(testing::TetherStack& stack, const std::string& action,
                                              const std::string& run_id) {
  std::vector<boost::json::object> out;
  const auto entries = admin_get(stack, "/api/audit?limit=1000&action=" + action + "&run_id=" + run_id);
  for (const auto& entry : array_field(entries, "entries")) out.push_back(entry.as_object());
  return out;
}

bool any_operation_started(const boost::json::object& run) {
  for (const auto& op : run_operations(run)) {
    if (!op.at("id").is_null()) return true;
  }
  return false;
}

const boost::json::object* find_approval(const boost::json::array& list, const std::string& id) {
  for (const auto& item : list) {
    if (item.as_object().at("id") == id.c_str()) return &item.as_object();
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a run waits for approval with nothing run; the requester and a non-approver get 403; an approver's "
          "approval runs it to completion",
          "[e2e][approvals]") {
  auto& stack = approvals_stack();
  auto p = people(stack);
  const auto alice = username_of(p.alice);
  const auto carol = username_of(p.carol);
  const auto marker = new_marker();
  AutomationApi admin(stack);
  const auto job = admin.create_job(approval_job(stack, marker, {alice, carol}));
  CHECK(job.at("requires_approval") == true);
  CHECK(job.at("approvers") == boost::json::array{alice.c_str(), carol.c_str()});

  // carol asks for a run: it waits.
  const auto run = object_at(answer(p.carol.call("POST", "/api/automation/jobs/" + string_field(job, "id") + "/trigger"), 201), "run");
  CHECK(string_field(run, "status") == "pending_approval");
  const auto approval_id = string_field(run, "approval_id");
  const auto run_id = string_field(run, "id");

  const auto listed = answer_array(p.vic.call("GET", "/api/approvals"), 200);
  const auto* shown = find_approval(listed, approval_id);
  REQUIRE(shown != nullptr);
  CHECK(string_field(*shown, "status") == "pending");
  CHECK(string_field(*shown, "run_id") == run_id);
  CHECK(string_field(*shown, "job_name") == string_field(job, "name"));
  CHECK(string_field(*shown, "requested_by") == "user:" + carol);
  CHECK(string_field(*shown, "run_status") == "pending_approval");
  CHECK(epoch_micros(shown->at("expires_at")) - epoch_micros(shown->at("requested_at")) == 3600LL * 1'000'000);
  CHECK(int_field(answer(p.vic.call("GET", "/api/approvals/count"), 200), "count") >= 1);
  CHECK(string_field(answer(p.vic.call("GET", "/api/approvals/" + approval_id), 200), "id") == approval_id);
  check_jobs_error(p.vic.call("GET", "/api/approvals/" + ids::new_uuid()), 404);

  // Nothing runs while it waits (the run driver sweeps every second).
  std::this_thread::sleep_for(1500ms);
  const auto waiting = admin.get_run(run_id);
  CHECK(string_field(waiting, "status") == "pending_approval");
  CHECK_FALSE(any_operation_started(waiting));
  CHECK_FALSE(std::filesystem::exists(marker));

  // Refused: a viewer (route access), the requester (though an approver), a non-approver.
  check_jobs_error(p.vic.call("POST", "/api/approvals/" + approval_id + "/approve"), 403);
  const auto own = check_jobs_error(p.carol.call("POST", "/api/approvals/" + approval_id + "/approve"), 403);
  CHECK(own.find("asked for this run") != std::string::npos);
  const auto outsider = check_jobs_error(p.bob.call("POST", "/api/approvals/" + approval_id + "/decide",
                                                    boost::json::object{{"decision", "approve"}}),
                                         403);
  CHECK(outsider.find("approvers") != std::string::npos);
  CHECK(string_field(admin.get_run(run_id), "status") == "pending_approval");

  // alice approves: the command runs on the agent and the run completes.
  const auto decided = answer(p.alice.call("POST", "/api/approvals/" + approval_id + "/approve",
                                           boost::json::object{{"comment", "go"}}),
                              200);
  CHECK(string_field(decided, "status") == "approved");
  const auto& approval = object_at(decided, "approval");
  CHECK(string_field(approval, "decided_by") == "user:" + alice);
  CHECK(string_field(approval, "comment") == "go");
  const auto ended = admin.wait_for_run_end(run_id, 30s);
  CHECK(string_field(ended, "status") == "completed");
  CHECK(std::filesystem::exists(marker));
  const auto ops = run_operations(admin.get_run(run_id));
  REQUIRE(ops.size() == 1);
  CHECK(operation_stdout(admin, string_field(ops[0], "id")) == "ran-after-approval\n");
  std::filesystem::remove(marker);

  // Deciding again is a conflict.
  check_jobs_error(p.alice.call("POST", "/api/approvals/" + approval_id + "/reject"), 409);
  CHECK(string_field(answer(p.vic.call("GET", "/api/approvals/" + approval_id), 200), "status") ==
        "approved");

  const auto requested = audit_of_run(stack, "approvals.request", run_id);
  REQUIRE(requested.size() == 1);
  CHECK(string_field(requested[0], "actor") == "user:" + carol);
  const auto approved = audit_of_run(stack, "approvals.approve", run_id);
  REQUIRE(approved.size() == 1);
  CHECK(string_field(approved[0], "actor") == "user:" + alice);
}

TEST_CASE("a rejection through decide cancels the run saying who and why; nothing runs; bad decisions are 422",
          "[e2e][approvals]") {
  auto& stack = approvals_stack();
  auto p = people(stack);
  const auto bob = username_of(p.bob);
  const auto marker = new_marker();
  AutomationApi admin(stack);
  const auto job = admin.create_job(approval_job(stack, marker, {}));  // any operator but the requester
  const auto run = object_at(answer(p.carol.call("POST", "/api/automation/jobs/" + string_field(job, "id") + "/trigger"), 201), "run");
  const auto approval_id = string_field(run, "approval_id");
  const auto run_id = string_field(run, "id");

  check_names_field(p.bob.call("POST", "/api/approvals/" + approval_id + "/decide",
                               boost::json::object{{"decision", "maybe"}}),
                    "decision");
  check_names_field(p.bob.call("POST", "/api/approvals/" + approval_id + "/decide", boost::json::object{}), "decision");
  check_jobs_error(p.carol.call("POST", "/api/approvals/" + approval_id + "/decide",
                                boost::json::object{{"decision", "deny"}}),
                   403);

  const auto decided = answer(p.bob.call("POST", "/api/approvals/" + approval_id + "/decide",
                                         boost::json::object{{"decision", "deny"}, {"comment", "not today"}}),
                              200);
  CHECK(string_field(decided, "status") == "rejected");
  const auto ended = admin.get_run(run_id);
  CHECK(string_field(ended, "status") == "canceled");
  CHECK(string_field(ended, "error") == "rejected by " + bob + ": not today");
  CHECK_FALSE(any_operation_started(ended));
  std::this_thread::sleep_for(1200ms);
  CHECK_FALSE(std::filesystem::exists(marker));

  const auto rejected = audit_of_run(stack, "approvals.reject", run_id);
  REQUIRE(rejected.size() == 1);
  CHECK(string_field(rejected[0], "actor") == "user:" + bob);
  CHECK(rejected[0].at("detail").as_object().at("comment") == "not today");

  // Seed 000: an automation's /run answers pending_approval with the request; /reject takes it.
  const auto created = answer(admin.call("POST", "/api/automations",
                                         boost::json::object{{"name", unique("seed000-approval")},
                                                             {"type", "script"},
                                                             {"params", {{"script", "touch '" + marker.string() + "'"}}},
                                                             {"targets", testing::server_targets({stack.server_id()})},
                                                             {"requires_approval", true}}),
                              201);
  const auto ran = answer(p.carol.call("POST", "/api/automations/" + string_field(created, "id") + "/run"), 200);
  CHECK(string_field(ran, "status") == "pending_approval");
  const auto seed_approval = string_field(ran, "approval_id");
  CHECK(string_field(answer(admin.call("POST", "/api/approvals/" + seed_approval + "/reject"), 200), "status") ==
        "rejected");
  const auto seed_run = answer(admin.call("GET", "/api/automations/runs/" + string_field(ran, "run_id")), 200);
  CHECK(string_field(seed_run, "status") == "canceled");
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("a request not decided within --approval-timeout expires and its run is canceled", "[e2e][approvals]") {
  auto& stack = expiring_stack();
  const auto marker = new_marker();
  AutomationApi admin(stack);
  const auto job = admin.create_job(approval_job(stack, marker, {}));
  const auto run = admin.trigger_job(string_field(job, "id"));
  CHECK(string_field(run, "status") == "pending_approval");
  const auto approval_id = string_field(run, "approval_id");
  const auto run_id = string_field(run, "id");

  const auto ended = admin.wait_for_run_end(run_id, 15s);
  CHECK(string_field(ended, "status") == "canceled");
  CHECK(string_field(ended, "error") == "approval expired after 2s");
  CHECK_FALSE(any_operation_started(ended));
  CHECK_FALSE(std::filesystem::exists(marker));
  const auto approval = answer(admin.call("GET", "/api/approvals/" + approval_id), 200);
  CHECK(string_field(approval, "status") == "expired");
  CHECK(string_field(approval, "decided_by") == "system");
  const auto expired = answer_array(admin.call("GET", "/api/approvals?status=expired"), 200);
  CHECK(find_approval(expired, approval_id) != nullptr);
  check_jobs_error(admin.call("POST", "/api/approvals/" + approval_id + "/approve"), 409);
  check_names_field(admin.call("GET", "/api/approvals?status=sideways"), "status");

  const auto audited = audit_of_run(stack, "approvals.expire", run_id);
  REQUIRE(audited.size() == 1);
  CHECK(string_field(audited[0], "actor") == "system");
}
