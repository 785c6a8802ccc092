// Issue 10: the triggers API and event triggers with a real controller and agent. Create, read,
// list, change and delete triggers in seed 002's wrappers; a webhook trigger's secret shown once;
// what invalid triggers and viewers get; an operation's end firing a job whose command reads the
// event from its environment; each event firing once with two controllers on one database.
#include "tests/e2e/jobs_checks.hpp"
#include "tests/support/api.hpp"

#include <fmt/format.h>

#include <set>
#include <thread>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

testing::TetherStack& triggers_stack() {
  testing::StackOptions options;
  options.master_key = true;  // webhook secrets are sealed with it
  return shared_stack(options);
}

std::string unique_name(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

boost::json::object manual_job(const std::string& name, const std::string& command = "true") {
  return {{"name", name},
          {"operation", testing::exec_operation(command, 30)},
          {"targets", testing::server_targets({triggers_stack().server_id()})},
          {"overlap_policy", "allow"}};
}

boost::json::object create_trigger(AutomationApi& api, const boost::json::object& body, unsigned status = 201) {
  const auto response = api.call("POST", "/api/automation/triggers", body);
  INFO(describe(response));
  REQUIRE(response.status == status);
  return json_object(response);
}

boost::json::object trigger_of(const boost::json::object& answer) { return object_at(answer, "trigger"); }

// The stdout of the only operation of the run, once it has ended.
std::string run_stdout(AutomationApi& api, const std::string& run_id) {
  const auto run = api.wait_for_run_end(run_id, 30s);
  const auto operations = run_operations(run);
  REQUIRE(operations.size() == 1);
  return operation_stdout(api, string_field(operations[0], "id"));
}

}  // namespace

TEST_CASE("an event trigger is created, read, listed, patched and deleted in seed 002's wrappers", "[e2e][triggers]") {
  auto& stack = triggers_stack();
  AutomationApi api(stack);
  const auto job = api.create_job(manual_job(unique_name("target")));
  const auto job_id = string_field(job, "id");

  const auto created = trigger_of(create_trigger(
      api, {{"name", "on failure"},
            {"job_id", job_id},
            {"event", "operation.failed"},
            {"filter", {{"server_tag", "web"}}},
            {"fire_limit", {{"max", 5}, {"window", "1h"}}},
            {"agent_name", "ignored"},
            {"scope", "global"}}));
  const auto id = string_field(created, "id");
  CHECK(string_field(created, "name") == "on failure");
  CHECK(string_field(created, "job_id") == job_id);
  CHECK(string_field(created, "event") == "operation.failed");
  CHECK(created.at("enabled").as_bool());
  CHECK(string_field(created, "source") == "dynamic");
  CHECK(object_at(created, "filter").at("server_tag") == "web");
  CHECK(int_field(object_at(created, "fire_limit"), "max") == 5);
  CHECK_FALSE(created.at("webhook_secret_present").as_bool());
  CHECK(created.at("webhook_id").is_null());
  CHECK_NOTHROW(epoch_micros(created.at("created_at")));
  CHECK_NOTHROW(epoch_micros(created.at("updated_at")));

  const auto read = json_object(api.call("GET", "/api/automation/triggers/" + id));
  CHECK(trigger_of(read) == created);

  const auto listed = json_object(api.call("GET", "/api/automation/triggers?event=operation.failed&source=dynamic"));
  bool found = false;
  for (const auto& trigger : objects(array_at(listed, "triggers"))) {
    CHECK(string_field(trigger, "event") == "operation.failed");
    found = found || string_field(trigger, "id") == id;
  }
  CHECK(found);
  CHECK(array_at(json_object(api.call("GET", "/api/automation/triggers?event=run.completed")), "triggers").empty() ==
        true);

  const auto patched = api.call("PATCH", "/api/automation/triggers/" + id,
                                boost::json::object{{"enabled", false}, {"filter", nullptr}});
  INFO(describe(patched));
  REQUIRE(patched.status == 200);
  const auto changed = trigger_of(json_object(patched));
  CHECK_FALSE(changed.at("enabled").as_bool());
  CHECK(object_at(changed, "filter").empty());
  CHECK(string_field(changed, "event") == "operation.failed");

  CHECK(api.call("DELETE", "/api/automation/triggers/" + id).status == 204);
  check_jobs_error(api.call("GET", "/api/automation/triggers/" + id), 404);
  check_jobs_error(api.call("DELETE", "/api/automation/triggers/" + id), 404);
}

TEST_CASE("a webhook trigger's secret is in the answers of its creation and rotation only", "[e2e][triggers]") {
  auto& stack = triggers_stack();
  AutomationApi api(stack);
  api.keep_answers();
  const auto job_id = string_field(api.create_job(manual_job(unique_name("hooked"))), "id");
  const auto answer = create_trigger(
      api, {{"name", "hook"}, {"job_id", job_id}, {"event", "webhook"}, {"endpoint_slug", "deploy-main"}});
  const auto secret = string_field(answer, "webhook_secret");
  CHECK(secret.rfind("whsec_", 0) == 0);
  CHECK(secret.size() >= 64);
  const auto trigger = trigger_of(answer);
  const auto id = string_field(trigger, "id");
  CHECK(string_field(trigger, "provider") == "signed");
  CHECK(trigger.at("webhook_secret_present").as_bool());
  const auto fingerprint = string_field(trigger, "webhook_secret_hash");
  CHECK(fingerprint.rfind("sha256:", 0) == 0);
  CHECK(secret.find(fingerprint.substr(7)) == std::string::npos);
  CHECK(string_field(trigger, "webhook_url") == "/api/webhooks/global/" + string_field(trigger, "webhook_id"));

  const auto read = json_object(api.call("GET", "/api/automation/triggers/" + id));
  CHECK_FALSE(read.contains("webhook_secret"));
  const auto rotated = json_object(api.call("POST", "/api/automation/triggers/" + id + "/rotate-secret"));
  const auto new_secret = string_field(rotated, "webhook_secret");
  CHECK(new_secret != secret);
  CHECK(string_field(trigger_of(rotated), "webhook_secret_hash") != fingerprint);

  // Outside those two answers the secrets appear nowhere: lists, reads, the audit log.
  api.call("GET", "/api/automation/triggers?event=webhook");
  api.call("GET", "/api/audit?limit=1000");
  const auto& answers = api.answers();
  int with_secret = 0;
  for (const auto& text : answers) {
    if (text.find(secret) != std::string::npos || text.find(new_secret) != std::string::npos) ++with_secret;
  }
  CHECK(with_secret == 2);
  // An event trigger has no secret to rotate.
  const auto event_trigger = trigger_of(create_trigger(
      api, {{"name", "event"}, {"job_id", job_id}, {"event", "run.failed"}}));
  check_jobs_error(api.call("POST", "/api/automation/triggers/" + string_field(event_trigger, "id") + "/rotate-secret"),
                   409);
}

TEST_CASE("invalid triggers get 422 naming the field, viewers read but cannot write", "[e2e][triggers]") {
  auto& stack = triggers_stack();
  AutomationApi api(stack);
  const auto job_id = string_field(api.create_job(manual_job(unique_name("target"))), "id");
  const auto post = [&](boost::json::object body) { return api.call("POST", "/api/automation/triggers", body); };
  check_names_field(post({{"job_id", job_id}, {"event", "run.failed"}}), "name:");
  check_names_field(post({{"name", "t"}, {"event", "run.failed"}}), "job_id:");
  check_names_field(post({{"name", "t"}, {"job_id", "00000000-0000-4000-8000-000000000000"}, {"event", "run.failed"}}),
                    "job_id:");
  check_names_field(post({{"name", "t"}, {"job_id", job_id}, {"event", "disk.full"}}), "event:");
  check_names_field(post({{"name", "t"}, {"job_id", job_id}, {"event", "webhook"}}), "endpoint_slug:");
  check_names_field(post({{"name", "t"}, {"job_id", job_id}, {"event", "run.failed"}, {"filter", {{"a", {{"b", 1}}}}}}),
                    "filter.a:");
  check_names_field(post({{"name", "t"}, {"job_id", job_id}, {"event", "run.failed"}, {"commit_ref_from", "after"}}),
                    "commit_ref_from:");  // the job is no deploy
  check_jobs_error(api.call("POST", "/api/automation/triggers", std::string_view("{not json")), 422);

  AutomationApi viewer(stack.client_options(),
                       testing::create_operator_key(stack.database(), "trigger-viewer", "viewer"));
  CHECK(viewer.call("GET", "/api/automation/triggers").status == 200);
  check_jobs_error(viewer.call("POST", "/api/automation/triggers",
                               boost::json::object{{"name", "t"}, {"job_id", job_id}, {"event", "run.failed"}}),
                   403);
  AutomationApi nobody(stack.client_options(), "");
  check_jobs_error(nobody.call("GET", "/api/automation/triggers"), 401);
}

TEST_CASE("an operation's end fires the trigger's job once on a real agent, the event reaching its command as "
          "environment values",
          "[e2e][triggers][events]") {
  auto& stack = triggers_stack();
  AutomationApi api(stack);
  const auto watched = string_field(api.create_job(manual_job(unique_name("watched"), "exit 3")), "id");
  const auto follow_up = string_field(
      api.create_job(manual_job(unique_name("follow-up"),
                                "echo \"job=$TETHER_EVENT_JOB_ID exit=$TETHER_EVENT_EXIT_CODE "
                                "type=$TETHER_EVENT_TYPE tags=$TETHER_EVENT_SERVER_TAG\"")),
      "id");
  const auto trigger = trigger_of(create_trigger(api, {{"name", "after watched"},
                                                       {"job_id", follow_up},
                                                       {"event", "operation.completed"},
                                                       {"filter", {{"job_id", watched}, {"exit_code", "3"}}}}));
  const auto trigger_id = string_field(trigger, "id");

  const auto fired = api.trigger_job(watched);
  api.wait_for_run_end(string_field(fired, "id"), 30s);
  const auto runs = api.wait_for_job_runs(
      follow_up, [](const boost::json::array& list) { return !list.empty(); }, 15s, "the follow-up's run");
  REQUIRE(runs.size() == 1);
  const auto run = runs.at(0).as_object();
  CHECK(string_field(run, "trigger_id") == trigger_id);
  CHECK(int_field(run, "chain_depth") == 1);
  CHECK(run.at("event_id").is_int64());
  const auto out = run_stdout(api, string_field(run, "id"));
  CHECK(out.rfind("job=" + watched + " exit=3 type=operation.completed tags=", 0) == 0);

  // The trigger's runs; nothing more fires for that one event.
  std::this_thread::sleep_for(1s);
  CHECK(api.job_runs(follow_up).size() == 1);
  const auto listed = json_object(api.call("GET", "/api/automation/triggers/" + trigger_id + "/runs"));
  REQUIRE(array_at(listed, "runs").size() == 1);
  CHECK(string_field(array_at(listed, "runs").at(0).as_object(), "id") == string_field(run, "id"));
}

TEST_CASE("with two controllers on one database each event fires its trigger exactly once", "[e2e][triggers][events]") {
  auto& stack = triggers_stack();
  AutomationApi api(stack);
  testing::ExtraController second(stack, "e2e-trigger-controller-b");
  AutomationApi api_b(second.client_options(), testing::create_operator_key(stack.database(), "b", "operator"));
  const auto watched = string_field(api.create_job(manual_job(unique_name("watched-twice"))), "id");
  const auto follow_up = string_field(api.create_job(manual_job(unique_name("follow-up-twice"))), "id");
  create_trigger(api, {{"name", "once each"},
                       {"job_id", follow_up},
                       {"event", "run.completed"},
                       {"filter", {{"job_id", watched}}}});
  constexpr int kFirings = 6;
  for (int i = 0; i < kFirings; ++i) {
    auto& client = i % 2 ? api_b : api;  // fired through both controllers
    const auto run = client.trigger_job(watched);
    client.wait_for_run_end(string_field(run, "id"), 30s);
  }
  const auto runs = api.wait_for_job_runs(
      follow_up, [](const boost::json::array& list) { return list.size() >= kFirings; }, 20s, "one run per event");
  std::this_thread::sleep_for(1500ms);  // time for a duplicate, were there one
  const auto settled = api.job_runs(follow_up);
  CHECK(settled.size() == kFirings);
  std::set<std::int64_t> events;
  for (const auto& run : objects(settled)) events.insert(run.at("event_id").as_int64());
  CHECK(events.size() == kFirings);
}

TEST_CASE("a v1 exec's end fires a trigger listening for operation events, and the exec still answers its result",
          "[e2e][triggers][events]") {
  auto& stack = triggers_stack();
  AutomationApi api(stack);
  const auto follow_up =
      string_field(api.create_job(manual_job(unique_name("after-ci"), "echo \"ci_run=$TETHER_EVENT_CI_RUN_ID\"")), "id");
  create_trigger(api, {{"name", "after a CI exec"},
                       {"job_id", follow_up},
                       {"event", "operation.completed"},
                       {"filter", {{"ci_run_id", "ci-trigger-run"}}}});
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  auto request = exec_body(stack.server_id(), "echo from-ci");
  request["run_id"] = "ci-trigger-run";
  const auto response = testing::exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(string_field(json_object(response), "status") == "completed");
  const auto runs = api.wait_for_job_runs(
      follow_up, [](const boost::json::array& list) { return !list.empty(); }, 15s, "the follow-up's run");
  REQUIRE(runs.size() == 1);
  CHECK(run_stdout(api, string_field(runs.at(0).as_object(), "id")) == "ci_run=ci-trigger-run\n");
}
