// Issue 10: export and import of the automation set (GET /api/automation/export, POST
// /api/automation/import) with a real controller. An export read back after everything was
// deleted gives the same jobs and triggers under new ids, without any secret; an invalid item is
// refused with its index and field, and then nothing of the document is created.
#include "tests/e2e/jobs_checks.hpp"
#include "tests/e2e/secret_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

using namespace tether;
using namespace tether::e2e;

namespace {

testing::TetherStack& portability_stack() {
  testing::StackOptions options;
  options.master_key = true;  // env values and webhook secrets are sealed with it
  return shared_stack(options);
}

std::string unique_name(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

boost::json::object exec_job(const std::string& name, const std::string& command = "true") {
  return {{"name", name},
          {"operation", testing::exec_operation(command, 30)},
          {"targets", testing::server_targets({portability_stack().server_id()})}};
}

// POST /api/automation/triggers → 201; returns the answer ({"trigger": TRIGGER, ...}).
boost::json::object create_trigger(AutomationApi& api, const boost::json::object& body) {
  const auto response = api.call("POST", "/api/automation/triggers", body);
  INFO(describe(response));
  REQUIRE(response.status == 201);
  return json_object(response);
}

boost::json::object export_document(AutomationApi& api) {
  const auto response = api.call("GET", "/api/automation/export");
  INFO(describe(response));
  REQUIRE(response.status == 200);
  return json_object(response);
}

void delete_all_jobs(AutomationApi& api) {
  for (const auto& job : objects(api.list_jobs("limit=1000"))) api.delete_job(string_field(job, "id"));
  REQUIRE(api.list_jobs("limit=1000").empty());
}

// A job as an export shows it, without what a new copy of it differs in: its id, times, creator's
// traces of scheduling, and env key names (an import has no env values to set).
boost::json::object comparable_job(boost::json::object job) {
  for (const char* key : {"id", "created_at", "updated_at", "next_run", "scheduler"}) job.erase(key);
  job["operation"].as_object().erase("env_keys");
  return job;
}

// A trigger likewise, its job named by the job's name; its webhook id and secret fingerprint are
// new with its new secret.
boost::json::object comparable_trigger(boost::json::object trigger, const std::map<std::string, std::string>& job_names) {
  const auto job = job_names.find(string_field(trigger, "job_id"));
  trigger["job_id"] = job == job_names.end() ? "?" : job->second;
  for (const char* key : {"id", "created_at", "updated_at", "webhook_id", "webhook_url", "webhook_secret_hash"}) {
    trigger.erase(key);
  }
  return trigger;
}

std::vector<std::string> comparable(const boost::json::object& document) {
  std::map<std::string, std::string> job_names;
  std::vector<std::string> out;
  for (const auto& job : objects(array_at(document, "jobs"))) {
    job_names[string_field(job, "id")] = string_field(job, "name");
    out.push_back("job " + boost::json::serialize(comparable_job(job)));
  }
  for (const auto& trigger : objects(array_at(document, "triggers"))) {
    out.push_back("trigger " + boost::json::serialize(comparable_trigger(trigger, job_names)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t job_count(AutomationApi& api) { return api.list_jobs("limit=1000").size(); }

}  // namespace

TEST_CASE("export, delete everything, import: the same jobs and triggers under new ids, and no secret either way",
          "[e2e][portability]") {
  auto& stack = portability_stack();
  AutomationApi api(stack);
  delete_all_jobs(api);
  api.keep_answers();
  const std::string env_secret = "env-" + crypto::hex_encode(crypto::random_bytes(16));

  auto full = exec_job("nightly", "df -h");
  full["operation"].as_object()["params"].as_object()["env"] = boost::json::object{{"TOKEN", env_secret}};
  full["schedule"] = {{"mode", "cron"}, {"expr", "0 3 * * 1-5"}};
  full["timezone"] = "Europe/Berlin";
  full["targets"] = {{"server_ids", boost::json::array{stack.server_id().c_str()}}, {"tags", boost::json::array{"web"}}};
  full["rate"] = {{"max_concurrency", "10%"}, {"max_errors", 3}};
  full["retry"] = {{"strategy", "exponential"}, {"max_retries", 2}, {"base_delay", "45s"}};
  full["fire_limit"] = {{"max", 10}, {"window", "1h"}};
  full["overlap_policy"] = "queue";
  full["misfire_grace_seconds"] = 120;
  full["catch_up_policy"] = "run_once";
  const auto nightly = api.create_job(full);

  auto interval = exec_job("every-five");
  interval["schedule"] = {{"mode", "interval"}, {"interval", "5m"}};
  interval["targets"] = testing::tag_targets({"web", "db"});
  interval["enabled"] = false;
  const auto every_five = api.create_job(interval);

  const auto manual = api.create_job({{"name", "reboot-by-hand"},
                                      {"operation", {{"type", "reboot"}, {"params", {{"timeout_seconds", 300}}}}},
                                      {"targets", testing::server_targets({stack.server_id()})}});

  std::vector<std::string> secrets;
  create_trigger(api, {{"name", "on failure"},
                       {"job_id", string_field(nightly, "id")},
                       {"event", "run.failed"},
                       {"filter", {{"job_name", "every-five"}}},
                       {"fire_limit", {{"max", 3}, {"window", "1h"}}},
                       {"retry", {{"strategy", "fixed"}, {"max_retries", 1}, {"base_delay", "10s"}}}});
  const auto signed_hook = create_trigger(api, {{"name", "deploy hook"},
                                                {"job_id", string_field(every_five, "id")},
                                                {"event", "webhook"},
                                                {"provider", "signed"},
                                                {"endpoint_slug", "deploy-hook"},
                                                {"enabled", false}});
  const auto token_hook = create_trigger(api, {{"name", "token hook"},
                                               {"job_id", string_field(manual, "id")},
                                               {"event", "webhook"},
                                               {"provider", "token"}});
  for (const auto& created : {signed_hook, token_hook}) {
    const auto serialized = boost::json::serialize(created);
    INFO(serialized);
    // The answer shows the secret once, as webhook_secret or webhook_token.
    for (const char* key : {"webhook_secret", "webhook_token"}) {
      if (const auto secret = optional_string(created, key)) secrets.push_back(*secret);
    }
  }
  REQUIRE(secrets.size() == 2);

  const auto exported = export_document(api);
  INFO(boost::json::serialize(exported));
  CHECK(int_field(exported, "version") == 1);
  CHECK(is_rfc3339_utc(exported.at("exported_at")));
  REQUIRE(array_at(exported, "jobs").size() == 3);
  REQUIRE(array_at(exported, "triggers").size() == 3);
  // No env value, no webhook secret or token, in any form.
  const auto text = boost::json::serialize(exported);
  CHECK_FALSE(contains_any(text, encodings_of(env_secret)));
  for (const auto& secret : secrets) CHECK_FALSE(contains_any(text, encodings_of(secret)));

  delete_all_jobs(api);
  CHECK(array_at(export_document(api), "triggers").empty());

  const auto response = api.call("POST", "/api/automation/import", exported);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto imported = json_object(response);
  CHECK(int_field(imported, "imported") == 6);
  const auto& job_ids = object_at(imported, "jobs");
  const auto& trigger_ids = object_at(imported, "triggers");
  REQUIRE(job_ids.size() == 3);
  REQUIRE(trigger_ids.size() == 3);
  for (const auto& job : objects(array_at(exported, "jobs"))) {
    const auto old_id = string_field(job, "id");
    REQUIRE(job_ids.contains(old_id));
    CHECK(job_ids.at(old_id) != old_id.c_str());
  }

  // Webhook triggers get fresh secrets, shown here once; the old ones are not reused.
  const auto& fresh = array_at(imported, "webhook_secrets");
  REQUIRE(fresh.size() == 2);
  std::vector<std::string> new_trigger_ids;
  for (const auto& [old_id, new_id] : trigger_ids) new_trigger_ids.emplace_back(new_id.as_string());
  for (const auto& item : objects(fresh)) {
    const auto secret = string_field(item, "secret");
    CHECK(std::find(secrets.begin(), secrets.end(), secret) == secrets.end());
    CHECK(std::find(new_trigger_ids.begin(), new_trigger_ids.end(), string_field(item, "trigger_id")) !=
          new_trigger_ids.end());
  }

  // The job whose env values stayed behind is named with their keys.
  const auto& env_to_set = array_at(imported, "env_to_set");
  REQUIRE(env_to_set.size() == 1);
  CHECK(string_field(env_to_set[0].as_object(), "job_id") == job_ids.at(string_field(nightly, "id")).as_string());
  CHECK(env_to_set[0].as_object().at("keys") == boost::json::array{"TOKEN"});

  // Exported again: the same declarations, each trigger on its job's new id.
  const auto again = export_document(api);
  CHECK(comparable(again) == comparable(exported));
  for (const auto& trigger : objects(array_at(again, "triggers"))) {
    bool from_document = false;
    for (const auto& [old_id, new_id] : trigger_ids) from_document |= new_id == string_field(trigger, "id").c_str();
    CHECK(from_document);
    bool on_new_job = false;
    for (const auto& [old_id, new_id] : job_ids) on_new_job |= new_id == string_field(trigger, "job_id").c_str();
    CHECK(on_new_job);
  }
  for (const auto& job : objects(array_at(again, "jobs"))) {
    CHECK(object_at(job, "operation").at("env_keys") == boost::json::array{});
  }

  // No answer of this case ever carried the env value.
  for (const auto& answer : api.answers()) CHECK_FALSE(contains_any(answer, encodings_of(env_secret)));
}

TEST_CASE("an invalid item is refused with its index and field, and nothing of the document is created",
          "[e2e][portability][422]") {
  auto& stack = portability_stack();
  AutomationApi api(stack);
  const auto before = job_count(api);

  // Four valid jobs and a trigger on the first; the tests below spoil one item at a time.
  boost::json::array jobs;
  for (int i = 0; i < 4; ++i) {
    auto job = exec_job(unique_name("imported"));
    job["id"] = ids::new_uuid();
    jobs.push_back(std::move(job));
  }
  boost::json::array triggers;
  for (int i = 0; i < 4; ++i) {
    triggers.push_back(boost::json::object{{"id", ids::new_uuid()},
                                           {"name", "t" + std::to_string(i)},
                                           {"job_id", jobs[0].as_object().at("id")},
                                           {"event", "run.failed"}});
  }
  const auto document = [&](boost::json::array j, boost::json::array t) {
    return boost::json::object{{"version", 1}, {"jobs", std::move(j)}, {"triggers", std::move(t)}};
  };
  const auto import = [&](const boost::json::object& body) { return api.call("POST", "/api/automation/import", body); };

  {
    auto spoiled = jobs;
    spoiled[2].as_object()["schedule"] = {{"mode", "cron"}, {"expr", "61 * * * *"}};
    check_names_field(import(document(spoiled, triggers)), "jobs[2].schedule.expr");
  }
  {
    auto spoiled = triggers;
    spoiled[3].as_object()["job_id"] = ids::new_uuid();
    check_names_field(import(document(jobs, spoiled)), "triggers[3].job_id");
  }
  {
    auto spoiled = triggers;
    spoiled[1].as_object()["event"] = "moon.phase";
    check_names_field(import(document(jobs, spoiled)), "triggers[1].event");
  }
  {
    auto spoiled = jobs;
    spoiled[1].as_object().erase("id");
    check_names_field(import(document(spoiled, triggers)), "jobs[1].id");
  }
  {
    auto spoiled = jobs;
    spoiled[0].as_object()["operation"].as_object()["params"].as_object()["command"] = "";
    check_names_field(import(document(spoiled, triggers)), "jobs[0].operation.params.command");
  }
  {
    // Parsed fine; refused by the jobs service after three jobs were created in the transaction.
    auto spoiled = jobs;
    spoiled[3].as_object()["targets"] = testing::server_targets({ids::new_uuid()});
    check_names_field(import(document(spoiled, triggers)), "jobs[3].targets.server_ids");
  }
  {
    auto spoiled = jobs;
    spoiled[3].as_object()["id"] = jobs[0].as_object().at("id");
    check_names_field(import(document(spoiled, triggers)), "jobs[3].id");
  }
  check_names_field(import({{"version", 2}, {"jobs", jobs}}), "version");
  check_names_field(import({{"jobs", "all of them"}}), "jobs");
  check_names_field(api.call("POST", "/api/automation/import", std::string_view("[]")), "request body");

  // None of the refused documents left anything behind.
  CHECK(job_count(api) == before);
  for (const auto& job : objects(api.list_jobs("limit=1000"))) {
    CHECK(string_field(job, "name").rfind("imported-", 0) != 0);
  }

  // The same document unspoiled is imported whole.
  const auto response = import(document(jobs, triggers));
  INFO(describe(response));
  REQUIRE(response.status == 200);
  CHECK(int_field(json_object(response), "imported") == 8);
  CHECK(job_count(api) == before + 4);
  CHECK(array_at(json_object(response), "webhook_secrets").empty());
  CHECK(array_at(json_object(response), "env_to_set").empty());
}

TEST_CASE("export and import are for operators: a viewer gets 403, no key 401", "[e2e][portability]") {
  auto& stack = portability_stack();
  AutomationApi viewer(stack.client_options(), testing::create_operator_key(stack.database(), "viewer", "viewer"));
  check_jobs_error(viewer.call("GET", "/api/automation/export"), 403);
  check_jobs_error(viewer.call("POST", "/api/automation/import", boost::json::object{{"jobs", boost::json::array{}}}),
                   403);
  AutomationApi anonymous(stack.client_options(), "");
  check_jobs_error(anonymous.call("GET", "/api/automation/export"), 401);
  check_jobs_error(anonymous.call("POST", "/api/automation/import", std::string_view("not json")), 401);
  AutomationApi operator_api(stack.client_options(), testing::create_operator_key(stack.database(), "op", "operator"));
  CHECK(operator_api.call("GET", "/api/automation/export").status == 200);
}
