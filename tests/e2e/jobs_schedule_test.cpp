// Issue 9: the scheduler fires jobs on time on a real agent. An interval job fires every 2 s,
// each run on its due time and completing with its command's exit code 0; a one-time `at` job
// fires once and is then disabled; POST /api/automation/jobs/{id}/trigger makes a run at once.
#include "tests/e2e/jobs_checks.hpp"

#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <thread>

using namespace tether;
using namespace tether::e2e;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kSecond = 1'000'000;  // µs
constexpr std::int64_t kMilli = 1'000;
// A run is created once its due time has come: never before it (beyond the rounding of two
// clocks on one machine), and on a quiet or busy machine well within 2 s after it.
constexpr std::int64_t kEarliest = -100 * kMilli;
constexpr std::int64_t kLatest = 2 * kSecond;

testing::TetherStack& schedule_stack() {
  testing::StackOptions options;
  options.master_key = true;
  return shared_stack(options);
}

std::string unique_name(const std::string& base) {
  static int count = 0;
  return fmt::format("{}-{}", base, ++count);
}

std::int64_t now_micros() { return epoch_micros(std::chrono::system_clock::now()); }

boost::json::object job_on_agent(const std::string& name, const std::string& command) {
  return {{"name", name},
          {"operation", testing::exec_operation(command, 30)},
          {"targets", testing::server_targets({schedule_stack().server_id()})}};
}

bool all_ended(const boost::json::array& runs) {
  for (const auto& run : objects(runs)) {
    if (!testing::run_ended(run)) return false;
  }
  return true;
}

// The run ran the job's command once on the stack's server: completed, with one operation that
// completed with exit code 0 and printed `expected_stdout`.
void check_completed_run(AutomationApi& api, const std::string& run_id, const std::string& job_id,
                         const std::string& expected_stdout) {
  const auto run = api.get_run(run_id);
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "completed");
  CHECK(optional_string(run, "job_id") == job_id);
  CHECK(is_rfc3339_utc(run.at("started_at")));
  CHECK(is_rfc3339_utc(run.at("ended_at")));
  CHECK(target_count(run, "total") == 1);
  CHECK(target_count(run, "succeeded") == 1);
  CHECK(target_count(run, "failed") == 0);
  const auto operations = run_operations(run);
  REQUIRE(operations.size() == 1);
  const auto& operation = operations.front();
  CHECK(string_field(operation, "server_id") == schedule_stack().server_id());
  CHECK(string_field(operation, "status") == "completed");
  CHECK(int_field(operation, "exit_code") == 0);
  CHECK(operation_stdout(api, string_field(operation, "id")) == expected_stdout);
}

// created_at - scheduled_at of a run, in µs.
std::int64_t lateness(const boost::json::object& run) {
  return epoch_micros(run.at("created_at")) - epoch_micros(run.at("scheduled_at"));
}

}  // namespace

TEST_CASE("an interval job of 2s fires every 2 s on time, each run completing with exit code 0, "
          "and fires no more once disabled",
          "[e2e][jobs][schedule]") {
  auto& stack = schedule_stack();
  AutomationApi api(stack);
  auto body = job_on_agent(unique_name("every-2s"), "echo fired");
  body["schedule"] = {{"mode", "interval"}, {"interval", "2s"}};
  const auto job = api.create_job(body);
  const auto id = string_field(job, "id");
  const auto job_created = epoch_micros(job.at("created_at"));

  // Due 2, 4 and 6 s after creation at the latest: three runs well within 10 s.
  api.wait_for_job_runs(
      id, [](const boost::json::array& runs) { return runs.size() >= 3; }, 10s, "three runs");

  const auto disabled = api.patch_job(id, {{"enabled", false}});
  const auto disabled_at = now_micros();
  CHECK(disabled.at("enabled") == false);
  const auto runs = api.wait_for_job_runs(id, all_ended, 30s, "every run ended");
  INFO("runs " << boost::json::serialize(runs));
  CHECK(repeated_scheduled_at(runs).empty());

  // Listed newest first.
  for (std::size_t i = 1; i < runs.size(); ++i) {
    CHECK(epoch_micros(runs[i - 1].as_object().at("scheduled_at")) > epoch_micros(runs[i].as_object().at("scheduled_at")));
  }

  const auto sorted = by_scheduled_at(runs);
  REQUIRE(sorted.size() >= 3);
  // The first due time is at most one interval after the job was created.
  CHECK(sorted.front().first >= job_created - 50 * kMilli);
  CHECK(sorted.front().first <= job_created + 2 * kSecond + 50 * kMilli);
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& [scheduled_at, run] = sorted[i];
    INFO("run " << i << ": " << boost::json::serialize(run));
    if (i > 0) CHECK(scheduled_at - sorted[i - 1].first == 2 * kSecond);
    CHECK(lateness(run) >= kEarliest);
    CHECK(lateness(run) < kLatest);
    CHECK(string_field(run, "status") == "completed");
    check_completed_run(api, string_field(run, "id"), id, "fired\n");
  }

  // Disabled, it fires no more: nothing is due after the PATCH, however long one waits (here,
  // more than two intervals).
  std::this_thread::sleep_for(4500ms);
  const auto later = api.job_runs(id);
  CHECK(later.size() == runs.size());
  for (const auto& run : objects(later)) {
    INFO(boost::json::serialize(run));
    CHECK(epoch_micros(run.at("scheduled_at")) <= disabled_at);
  }
  CHECK(api.get_job(id).at("enabled") == false);
}

TEST_CASE("a one-time at job fires once at its time, then the job is disabled", "[e2e][jobs][schedule]") {
  auto& stack = schedule_stack();
  AutomationApi api(stack);
  const std::chrono::system_clock::time_point at =
      std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + 3s;
  auto body = job_on_agent(unique_name("once"), "echo once");
  body["schedule"] = {{"mode", "at"}, {"time", testing::rfc3339(at)}};
  const auto job = api.create_job(body);
  const auto id = string_field(job, "id");
  INFO("job " << boost::json::serialize(job));
  CHECK(job.at("enabled") == true);
  CHECK(epoch_micros(job.at("next_run")) == epoch_micros(at));

  const auto runs = api.wait_for_job_runs(
      id, [](const boost::json::array& runs) { return !runs.empty() && all_ended(runs); }, 20s, "its run ended");
  REQUIRE(runs.size() == 1);
  const auto& run = runs.front().as_object();
  INFO("run " << boost::json::serialize(run));
  CHECK(epoch_micros(run.at("scheduled_at")) == epoch_micros(at));
  CHECK(lateness(run) >= kEarliest);
  CHECK(lateness(run) < kLatest);
  check_completed_run(api, string_field(run, "id"), id, "once\n");

  boost::json::object after;
  const bool disabled = testing::wait_until(
      [&] {
        after = api.get_job(id);
        return after.at("enabled") == false;
      },
      10s, 100ms);
  INFO("job after its run: " << boost::json::serialize(after));
  REQUIRE(disabled);
  CHECK(after.at("next_run").is_null());

  // And it does not fire again.
  std::this_thread::sleep_for(3s);
  CHECK(api.job_runs(id).size() == 1);
}

TEST_CASE("POST /jobs/{id}/trigger creates a run at once, whatever the job's schedule, and leaves next_run alone",
          "[e2e][jobs][schedule]") {
  AutomationApi api(schedule_stack());
  const auto manual = api.create_job(job_on_agent(unique_name("manual"), "echo triggered"));
  const auto manual_id = string_field(manual, "id");

  const auto response = api.call("POST", "/api/automation/jobs/" + manual_id + "/trigger");
  INFO(describe(response));
  REQUIRE(response.status == 201);
  const auto answer = json_object(response);
  const auto run = object_at(answer, "run");
  const auto run_id = string_field(run, "id");
  CHECK(ids::is_uuid(run_id));
  CHECK(optional_string(run, "job_id") == manual_id);
  CHECK(run.at("trigger_id").is_null());
  const auto status = string_field(run, "status");
  CHECK((status == "scheduled" || status == "running" || status == "completed"));
  CHECK(is_rfc3339_utc(run.at("created_at")));

  // The run exists as soon as the answer came.
  const auto listed = api.job_runs(manual_id);
  REQUIRE(listed.size() == 1);
  CHECK(string_field(listed.front().as_object(), "id") == run_id);
  const auto all = api.list_runs("job_id=" + manual_id);
  REQUIRE(all.size() == 1);
  CHECK(string_field(all.front().as_object(), "id") == run_id);

  api.wait_for_run_end(run_id, 60s);
  check_completed_run(api, run_id, manual_id, "triggered\n");

  // A second trigger: listed first (newest first).
  const auto second_id = string_field(api.trigger_job(manual_id), "id");
  const auto two = api.job_runs(manual_id);
  REQUIRE(two.size() == 2);
  CHECK(string_field(two.at(0).as_object(), "id") == second_id);
  CHECK(string_field(two.at(1).as_object(), "id") == run_id);
  api.wait_for_run_end(second_id, 60s);
  check_completed_run(api, second_id, manual_id, "triggered\n");

  // A cron job not due before next year runs now when triggered; its next due time stays.
  auto yearly_body = job_on_agent(unique_name("yearly"), "echo early");
  yearly_body["schedule"] = {{"mode", "cron"}, {"expr", "0 3 1 1 *"}};
  const auto yearly = api.create_job(yearly_body);
  const auto yearly_id = string_field(yearly, "id");
  const auto next_before = epoch_micros(yearly.at("next_run"));
  CHECK(next_before > now_micros() + 60 * kSecond);
  const auto early_run = string_field(api.trigger_job(yearly_id), "id");
  api.wait_for_run_end(early_run, 60s);
  check_completed_run(api, early_run, yearly_id, "early\n");
  CHECK(epoch_micros(api.get_job(yearly_id).at("next_run")) == next_before);
  CHECK(api.job_runs(yearly_id).size() == 1);
}

TEST_CASE("a run whose command exits 3 ends failed; its operation completed with exit code 3",
          "[e2e][jobs][schedule]") {
  AutomationApi api(schedule_stack());
  const auto job = api.create_job(job_on_agent(unique_name("failing"), "echo before; exit 3"));
  const auto job_id = string_field(job, "id");
  const auto run_id = string_field(api.trigger_job(job_id), "id");
  const auto run = api.wait_for_run_end(run_id, 60s);
  INFO("run " << boost::json::serialize(run));
  CHECK(string_field(run, "status") == "failed");
  CHECK(target_count(run, "total") == 1);
  CHECK(target_count(run, "failed") == 1);
  CHECK(target_count(run, "succeeded") == 0);
  const auto operations = run_operations(run);
  REQUIRE(operations.size() == 1);
  CHECK(string_field(operations.front(), "status") == "completed");
  CHECK(int_field(operations.front(), "exit_code") == 3);
  CHECK(operation_stdout(api, string_field(operations.front(), "id")) == "before\n");
}
