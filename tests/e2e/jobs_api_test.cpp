// Issue 9: the jobs API with a real controller. Create, read, list, change and delete jobs
// (POST/GET/PATCH/DELETE /api/automation/jobs), what invalid jobs get (422 naming the field),
// what a viewer may do, and PATCH /api/servers/{id} (the tags that jobs target).
#include "tests/e2e/jobs_checks.hpp"
#include "tests/e2e/secret_checks.hpp"

#include <fmt/format.h>

#include <functional>

using namespace tether;
using namespace tether::e2e;

namespace {

constexpr std::int64_t kSecond = 1'000'000;  // µs
constexpr std::int64_t kHour = 3600 * kSecond;

testing::TetherStack& jobs_stack() {
  testing::StackOptions options;
  options.master_key = true;  // job env values are encrypted with it
  return shared_stack(options);
}

std::string unique_name(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

std::int64_t now_micros() { return epoch_micros(std::chrono::system_clock::now()); }

// Seconds since midnight UTC of a time in µs since the epoch.
std::int64_t seconds_of_day(std::int64_t micros) {
  const std::int64_t seconds = micros / kSecond;
  return ((seconds % 86400) + 86400) % 86400;
}

// A job without a schedule (run only when triggered) of `command` on the stack's server.
boost::json::object manual_job(const std::string& name, const std::string& command = "true") {
  return {{"name", name},
          {"operation", testing::exec_operation(command, 30)},
          {"targets", testing::server_targets({jobs_stack().server_id()})}};
}

boost::json::object cron_job(const std::string& name, const std::string& expr) {
  auto job = manual_job(name);
  job["schedule"] = {{"mode", "cron"}, {"expr", expr}};
  return job;
}

const boost::json::object* find_by_id(const boost::json::array& items, const std::string& id) {
  for (const auto& item : items) {
    if (item.is_object() && item.as_object().contains("id") && item.as_object().at("id") == id.c_str()) {
      return &item.as_object();
    }
  }
  return nullptr;
}

// The job's next_run in µs; also checks that the scheduler state says the same.
std::int64_t next_run_of(const boost::json::object& job) {
  INFO(boost::json::serialize(job));
  const auto next = epoch_micros(job.at("next_run"));
  CHECK(epoch_micros(object_at(job, "scheduler").at("next_run_at")) == next);
  return next;
}

}  // namespace

TEST_CASE("creating a job answers 201 with the job wrapper echoing its fields, env key names and never env values",
          "[e2e][jobs]") {
  auto& stack = jobs_stack();
  AutomationApi api(stack);
  api.keep_answers();
  const std::string secret = "job-env-" + crypto::hex_encode(crypto::random_bytes(16));

  boost::json::object params{
      {"command", "df -h"}, {"working_directory", "/tmp"}, {"timeout_seconds", 300}, {"env", {{"TOKEN", secret}}}};
  boost::json::object body{
      {"name", unique_name("nightly-cleanup")},
      {"enabled", true},
      {"schedule", {{"mode", "cron"}, {"expr", "0 3 * * *"}}},
      {"timezone", "Europe/Berlin"},
      {"operation", {{"type", "exec"}, {"params", params}}},
      {"targets", {{"server_ids", boost::json::array{stack.server_id().c_str()}}, {"tags", boost::json::array{"web"}}}},
      {"rate", {{"max_concurrency", "10%"}, {"max_errors", 3}}},
      {"retry", {{"strategy", "fixed"}, {"max_retries", 2}, {"base_delay", "30s"}}},
      {"fire_limit", {{"max", 10}, {"window", "1h"}}},
      {"overlap_policy", "queue"},
      {"misfire_grace_seconds", 120},
      {"catch_up_policy", "run_once"}};
  const auto before = now_micros();
  const auto response = api.call("POST", "/api/automation/jobs", body);
  INFO(describe(response));
  REQUIRE(response.status == 201);
  const auto answer = json_object(response);
  CHECK(answer.size() == 1);
  const auto job = object_at(answer, "job");
  const auto id = string_field(job, "id");
  CHECK(ids::is_uuid(id));

  // Every field sent comes back as sent, except the env values.
  auto expected = body;
  expected["operation"].as_object()["params"].as_object().erase("env");
  check_echoed(expected, job, "job");
  const auto& operation = object_at(job, "operation");
  CHECK_FALSE(object_at(operation, "params").contains("env"));
  CHECK(operation.at("env_keys") == boost::json::array{"TOKEN"});
  CHECK(string_field(job, "source") == "dynamic");
  CHECK(is_rfc3339_utc(job.at("created_at")));
  CHECK(is_rfc3339_utc(job.at("updated_at")));

  // 03:00 in Berlin is 01:00 or 02:00 UTC (CET or CEST), at most a day away.
  const auto next = next_run_of(job);
  CHECK(next > before);
  CHECK(next <= before + 25 * kHour);
  const auto time_of_day = seconds_of_day(next);
  CHECK((time_of_day == 3600 || time_of_day == 7200));

  const auto& scheduler = object_at(job, "scheduler");
  INFO("scheduler " << boost::json::serialize(scheduler));
  CHECK(string_field(scheduler, "job_id") == id);
  CHECK(int_field(scheduler, "misfire_grace_seconds") == 120);
  CHECK(string_field(scheduler, "catch_up_policy") == "run_once");
  CHECK(int_field(scheduler, "consecutive_resume_failures") == 0);
  CHECK(int_field(scheduler, "misfire_count") == 0);
  CHECK(scheduler.at("last_run_at").is_null());  // it never ran
  for (const char* field : {"last_scheduled_at", "last_fire_id", "last_misfire_at", "registered", "updated_at"}) {
    INFO("scheduler field " << field);
    CHECK(scheduler.contains(field));
  }

  const auto fetched = api.get_job(id);
  CHECK(string_field(fetched, "id") == id);
  check_echoed(expected, fetched, "job");
  CHECK(object_at(fetched, "operation").at("env_keys") == boost::json::array{"TOKEN"});
  CHECK_FALSE(object_at(object_at(fetched, "operation"), "params").contains("env"));
  CHECK(next_run_of(fetched) == next);

  const auto listed = api.list_jobs("source=dynamic&limit=1000");
  const auto* in_list = find_by_id(listed, id);
  REQUIRE(in_list != nullptr);
  CHECK(object_at(*in_list, "operation").at("env_keys") == boost::json::array{"TOKEN"});
  CHECK_FALSE(object_at(object_at(*in_list, "operation"), "params").contains("env"));

  // The value is in no answer, in any of the forms it could take.
  REQUIRE(api.answers().size() == 3);
  for (const auto& text : api.answers()) CHECK_FALSE(contains_any(text, encodings_of(secret)));
}

TEST_CASE("a job created with only the required fields gets the documented defaults", "[e2e][jobs]") {
  AutomationApi api(jobs_stack());
  const auto job = api.create_job(manual_job(unique_name("defaults")));
  INFO(boost::json::serialize(job));
  CHECK(job.at("enabled") == true);
  CHECK(string_field(job, "timezone") == "UTC");
  CHECK(string_field(job, "overlap_policy") == "skip");
  CHECK(string_field(job, "catch_up_policy") == "skip");
  CHECK(string_field(job, "source") == "dynamic");
  CHECK(object_at(job, "operation").at("env_keys") == boost::json::array{});
  // Without a schedule it runs only when triggered.
  CHECK((!job.contains("schedule") || job.at("schedule").is_null()));
  CHECK(job.at("next_run").is_null());
}

TEST_CASE("the job list holds the jobs created through the API under source dynamic, not config, and honours limit",
          "[e2e][jobs]") {
  AutomationApi api(jobs_stack());
  std::vector<std::string> created;
  for (int i = 0; i < 3; ++i) created.push_back(string_field(api.create_job(manual_job(unique_name("listed"))), "id"));

  const auto dynamic = api.list_jobs("source=dynamic&limit=100");
  for (const auto& id : created) {
    INFO("job " << id);
    CHECK(find_by_id(dynamic, id) != nullptr);
  }
  for (const auto& job : objects(dynamic)) CHECK(string_field(job, "source") == "dynamic");

  const auto all = api.list_jobs();
  for (const auto& id : created) CHECK(find_by_id(all, id) != nullptr);

  const auto config = api.list_jobs("source=config");
  for (const auto& id : created) CHECK(find_by_id(config, id) == nullptr);

  REQUIRE(all.size() >= 3);
  CHECK(api.list_jobs("limit=2").size() == 2);
  CHECK(api.list_jobs("source=dynamic&limit=1").size() == 1);

  check_names_field(api.call("GET", "/api/automation/jobs?limit=5000"), "limit");
  check_names_field(api.call("GET", "/api/automation/jobs?source=elsewhere"), "source");
}

TEST_CASE("PATCH changes only the fields it names: a new schedule or timezone recomputes next_run, "
          "enabled:false disables",
          "[e2e][jobs]") {
  AutomationApi api(jobs_stack());
  const auto created = api.create_job(cron_job(unique_name("patched"), "0 3 * * *"));
  const auto id = string_field(created, "id");
  CHECK(seconds_of_day(next_run_of(created)) == 3 * 3600);

  const auto rescheduled = api.patch_job(id, {{"schedule", {{"mode", "cron"}, {"expr", "30 5 * * *"}}}});
  {
    INFO(boost::json::serialize(rescheduled));
    CHECK(string_field(rescheduled, "name") == string_field(created, "name"));
    CHECK(string_field(object_at(rescheduled, "schedule"), "expr") == "30 5 * * *");
    const auto next = next_run_of(rescheduled);
    CHECK(seconds_of_day(next) == 5 * 3600 + 30 * 60);
    CHECK(next > now_micros());
    CHECK(next <= now_micros() + 24 * kHour);
    CHECK(epoch_micros(rescheduled.at("updated_at")) >= epoch_micros(created.at("updated_at")));
    CHECK(epoch_micros(rescheduled.at("created_at")) == epoch_micros(created.at("created_at")));
  }

  // 05:30 in New York is 10:30 UTC (EST) or 09:30 UTC (EDT).
  const auto moved = api.patch_job(id, {{"timezone", "America/New_York"}});
  {
    INFO(boost::json::serialize(moved));
    CHECK(string_field(moved, "timezone") == "America/New_York");
    const auto time_of_day = seconds_of_day(next_run_of(moved));
    CHECK((time_of_day == 10 * 3600 + 1800 || time_of_day == 9 * 3600 + 1800));
  }

  const auto before_interval = now_micros();
  const auto hourly = api.patch_job(id, {{"schedule", {{"mode", "interval"}, {"interval", "1h"}}}});
  {
    INFO(boost::json::serialize(hourly));
    CHECK(string_field(object_at(hourly, "schedule"), "mode") == "interval");
    const auto next = next_run_of(hourly);
    CHECK(next >= before_interval - 5 * kSecond);
    CHECK(next <= now_micros() + kHour + 5 * kSecond);
  }

  const auto disabled = api.patch_job(id, {{"enabled", false}});
  {
    INFO(boost::json::serialize(disabled));
    CHECK(disabled.at("enabled") == false);
    CHECK(string_field(disabled, "name") == string_field(created, "name"));
    CHECK(disabled.at("operation") == hourly.at("operation"));
    CHECK(disabled.at("targets") == hourly.at("targets"));
    CHECK(string_field(object_at(disabled, "schedule"), "interval") == "1h");
  }
  CHECK(api.get_job(id).at("enabled") == false);

  // An invalid change is refused whole and changes nothing.
  check_names_field(api.call("PATCH", "/api/automation/jobs/" + id,
                             boost::json::object{{"name", "renamed"}, {"overlap_policy", "sometimes"}}),
                    "overlap_policy");
  const auto after = api.get_job(id);
  CHECK(string_field(after, "name") == string_field(created, "name"));
  CHECK(string_field(after, "overlap_policy") == "skip");

  check_jobs_error(api.call("PATCH", "/api/automation/jobs/" + ids::new_uuid(), boost::json::object{{"enabled", false}}),
                   404);
}

TEST_CASE("DELETE answers 204; the job is then 404 with error and detail, and its runs keep its id", "[e2e][jobs]") {
  AutomationApi api(jobs_stack());
  const auto id = string_field(api.create_job(manual_job(unique_name("deleted"))), "id");
  const auto run = api.trigger_job(id);
  const auto run_id = string_field(run, "id");
  const auto ended = api.wait_for_run_end(run_id, std::chrono::seconds(60));
  CHECK(string_field(ended, "status") == "completed");

  const auto deleted = api.call("DELETE", "/api/automation/jobs/" + id);
  INFO(describe(deleted));
  REQUIRE(deleted.status == 204);
  CHECK(deleted.body.empty());

  const auto detail = check_jobs_error(api.call("GET", "/api/automation/jobs/" + id), 404);
  CHECK(detail.find("not found") != std::string::npos);
  check_jobs_error(api.call("DELETE", "/api/automation/jobs/" + id), 404);
  check_jobs_error(api.call("PATCH", "/api/automation/jobs/" + id, boost::json::object{{"enabled", true}}), 404);
  check_jobs_error(api.call("POST", "/api/automation/jobs/" + id + "/trigger"), 404);
  CHECK(find_by_id(api.list_jobs("limit=1000"), id) == nullptr);

  const auto kept = api.get_run(run_id);
  CHECK(optional_string(kept, "job_id") == id);
  check_jobs_error(api.call("GET", "/api/automation/runs/" + ids::new_uuid()), 404);
}

TEST_CASE("an invalid job is refused with 422 naming the field, and nothing is created", "[e2e][jobs]") {
  AutomationApi api(jobs_stack());
  const auto jobs_before = api.list_jobs("limit=1000").size();

  struct Case {
    std::string field;
    std::function<void(boost::json::object&)> change;
  };
  const std::vector<Case> cases{
      {"schedule.expr", [](auto& job) { job["schedule"] = {{"mode", "cron"}, {"expr", "61 * * * *"}}; }},
      {"schedule.expr", [](auto& job) { job["schedule"] = {{"mode", "cron"}, {"expr", "* * *"}}; }},
      {"timezone",
       [](auto& job) {
         job["schedule"] = {{"mode", "cron"}, {"expr", "0 3 * * *"}};
         job["timezone"] = "Mars/Olympus_Mons";
       }},
      {"schedule.interval", [](auto& job) { job["schedule"] = {{"mode", "interval"}, {"interval", "soon"}}; }},
      {"schedule.interval", [](auto& job) { job["schedule"] = {{"mode", "interval"}, {"interval", "0s"}}; }},
      {"schedule.time", [](auto& job) { job["schedule"] = {{"mode", "at"}, {"time", "tomorrow"}}; }},
      {"schedule.mode", [](auto& job) { job["schedule"] = {{"mode", "weekly"}}; }},
      {"overlap_policy", [](auto& job) { job["overlap_policy"] = "sometimes"; }},
      {"catch_up_policy", [](auto& job) { job["catch_up_policy"] = "never"; }},
      {"operation.type", [](auto& job) { job["operation"].as_object()["type"] = "format_disk"; }},
      {"operation.params.command",
       [](auto& job) { job["operation"].as_object()["params"].as_object().erase("command"); }},
      {"rate.max_concurrency", [](auto& job) { job["rate"] = {{"max_concurrency", 0}}; }},
      {"rate.max_concurrency", [](auto& job) { job["rate"] = {{"max_concurrency", "0"}}; }},
      {"rate.max_concurrency", [](auto& job) { job["rate"] = {{"max_concurrency", "150%"}}; }},
      {"rate.max_errors", [](auto& job) { job["rate"] = {{"max_concurrency", 2}, {"max_errors", "150%"}}; }},
      {"retry.strategy", [](auto& job) { job["retry"] = {{"strategy", "sometimes"}}; }},
      {"targets.server_ids", [](auto& job) { job["targets"] = {{"server_ids", boost::json::array{"web-1"}}}; }},
      {"name", [](auto& job) { job.erase("name"); }},
      {"operation", [](auto& job) { job.erase("operation"); }},
      {"targets", [](auto& job) { job.erase("targets"); }},
  };
  for (const auto& c : cases) {
    auto job = manual_job(unique_name("invalid"));
    c.change(job);
    INFO("body " << boost::json::serialize(job));
    check_names_field(api.call("POST", "/api/automation/jobs", job), c.field);
  }
  // Not JSON at all.
  check_jobs_error(api.call("POST", "/api/automation/jobs", std::string_view("{\"name\":")), 422);

  // An ad hoc run is checked the same way.
  boost::json::object run{{"operation", testing::exec_operation("true")},
                          {"targets", testing::server_targets({jobs_stack().server_id()})},
                          {"rate", {{"max_concurrency", "150%"}}}};
  check_names_field(api.call("POST", "/api/automation/runs", run), "rate.max_concurrency");
  run["rate"] = {{"max_concurrency", 1}};
  run["operation"].as_object()["type"] = "format_disk";
  check_names_field(api.call("POST", "/api/automation/runs", run), "operation.type");

  CHECK(api.list_jobs("limit=1000").size() == jobs_before);
}

TEST_CASE("a viewer key reads jobs and runs but gets 403 on every write; an operator key may write", "[e2e][jobs]") {
  auto& stack = jobs_stack();
  AutomationApi admin(stack);
  AutomationApi viewer(stack.client_options(), testing::create_operator_key(stack.database(), "jobs-viewer", "viewer"));
  AutomationApi operator_api(stack.client_options(),
                             testing::create_operator_key(stack.database(), "jobs-operator", "operator"));

  const auto job = admin.create_job(manual_job(unique_name("viewed")));
  const auto id = string_field(job, "id");
  const auto run_id = string_field(admin.trigger_job(id), "id");
  admin.wait_for_run_end(run_id, std::chrono::seconds(60));

  // Reads (each throws unless 200).
  CHECK(find_by_id(viewer.list_jobs("limit=1000"), id) != nullptr);
  CHECK(string_field(viewer.get_job(id), "id") == id);
  CHECK(find_by_id(viewer.job_runs(id), run_id) != nullptr);
  CHECK(find_by_id(viewer.list_runs("job_id=" + id), run_id) != nullptr);
  CHECK(string_field(viewer.get_run(run_id), "id") == run_id);

  check_jobs_error(viewer.call("POST", "/api/automation/jobs", manual_job(unique_name("by-viewer"))), 403);
  check_jobs_error(viewer.call("PATCH", "/api/automation/jobs/" + id, boost::json::object{{"enabled", false}}), 403);
  check_jobs_error(viewer.call("DELETE", "/api/automation/jobs/" + id), 403);
  check_jobs_error(viewer.call("POST", "/api/automation/jobs/" + id + "/trigger"), 403);
  check_jobs_error(viewer.call("POST", "/api/automation/runs",
                               boost::json::object{{"operation", testing::exec_operation("true")},
                                                   {"targets", testing::server_targets({stack.server_id()})}}),
                   403);
  check_jobs_error(viewer.cancel_run(run_id), 403);

  // Nothing the viewer tried changed anything.
  const auto after = admin.get_job(id);
  CHECK(after.at("enabled") == true);
  CHECK(admin.job_runs(id).size() == 1);

  // No key at all.
  auto anonymous = stack.client();
  CHECK(anonymous.get("/api/automation/jobs").status == 401);
  CHECK(anonymous.get("/api/automation/runs/" + run_id).status == 401);

  const auto mine = operator_api.create_job(manual_job(unique_name("by-operator")));
  const auto mine_id = string_field(mine, "id");
  CHECK(operator_api.patch_job(mine_id, {{"enabled", false}}).at("enabled") == false);
  const auto mine_run = operator_api.trigger_job(mine_id);
  CHECK(optional_string(mine_run, "job_id") == mine_id);
  operator_api.wait_for_run_end(string_field(mine_run, "id"), std::chrono::seconds(60));
  operator_api.delete_job(mine_id);
}

TEST_CASE("PATCH /api/servers/{id} changes a server's tags and name, and GET shows them", "[e2e][jobs][servers]") {
  auto& stack = jobs_stack();
  const auto created = stack.create_server(unique_name("tagged"));
  const auto id = string_field(created, "id");
  const auto name = string_field(created, "name");
  const auto target = "/api/servers/" + id;

  const auto tagged = stack.admin("PATCH", target, R"({"tags":["web","eu"]})");
  INFO(describe(tagged));
  REQUIRE(tagged.status == 200);
  const auto tagged_body = json_object(tagged);
  CHECK(string_field(tagged_body, "id") == id);
  CHECK(string_field(tagged_body, "name") == name);
  CHECK(tagged_body.at("tags") == (boost::json::array{"web", "eu"}));
  CHECK_FALSE(tagged_body.contains("agent_token"));
  CHECK(stack.get_server(id).at("tags") == (boost::json::array{"web", "eu"}));

  const auto renamed = stack.admin("PATCH", target, R"({"name":"renamed-server"})");
  INFO(describe(renamed));
  REQUIRE(renamed.status == 200);
  CHECK(string_field(json_object(renamed), "name") == "renamed-server");
  CHECK(json_object(renamed).at("tags") == (boost::json::array{"web", "eu"}));
  const auto fetched = stack.get_server(id);
  CHECK(string_field(fetched, "name") == "renamed-server");
  CHECK(fetched.at("tags") == (boost::json::array{"web", "eu"}));

  const auto cleared = stack.admin("PATCH", target, R"({"tags":[]})");
  REQUIRE(cleared.status == 200);
  CHECK(stack.get_server(id).at("tags") == boost::json::array{});

  const auto invalid = stack.admin("PATCH", target, R"({"tags":"web"})");
  INFO(describe(invalid));
  CHECK(invalid.status == 422);
  CHECK(invalid.body.find("tags") != std::string::npos);
  CHECK(stack.admin("PATCH", "/api/servers/" + ids::new_uuid(), R"({"tags":["web"]})").status == 404);

  AutomationApi viewer(stack.client_options(),
                       testing::create_operator_key(stack.database(), "servers-viewer", "viewer"));
  CHECK(viewer.call("PATCH", target, std::string_view(R"({"tags":["stolen"]})")).status == 403);
  CHECK(stack.get_server(id).at("tags") == boost::json::array{});
}
