// Issue 9: any number of controller replicas fire each due job exactly once. Two controller
// processes (their own ports and instance ids) share one database; the agent holds its socket to
// the first. A 1 s interval job runs for more than 30 due times beside other jobs made through
// either controller; every due time then has exactly one run (no firing twice), consecutive due
// times are exactly one interval apart (no hole), and each run ran its command exactly once.
#include "tests/e2e/jobs_checks.hpp"
#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

using namespace tether;
using namespace tether::e2e;
using tether::reliability::stack_logs;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kSecond = 1'000'000;  // µs

struct Job {
  std::string id;
  std::string name;
  std::filesystem::path ticks;  // the command appends one line to it per run
};

std::int64_t now_micros() { return epoch_micros(std::chrono::system_clock::now()); }

std::size_t lines_in(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return 0;
  const auto text = testing::read_file(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A job of `echo tick >> <its file>` on the server; every firing runs (overlap allow), and a due
// time is fired however late the scheduler gets to it (well within the misfire grace).
Job create_job(AutomationApi& api, testing::TetherStack& stack, const std::string& name,
               std::optional<boost::json::object> schedule) {
  Job job;
  job.name = name;
  job.ticks = stack.dir() / (name + ".ticks");
  boost::json::object body{
      {"name", name},
      {"operation", testing::exec_operation("echo tick >> " + testing::shell_quote(job.ticks.string()), 30)},
      {"targets", testing::server_targets({stack.server_id()})},
      {"overlap_policy", "allow"},
      {"misfire_grace_seconds", 60}};
  if (schedule) body["schedule"] = *schedule;
  job.id = string_field(api.create_job(body), "id");
  return job;
}

boost::json::object every(const std::string& interval) { return {{"mode", "interval"}, {"interval", interval}}; }

std::vector<std::string> run_ids(const boost::json::array& runs) {
  std::vector<std::string> ids;
  for (const auto& run : objects(runs)) ids.push_back(string_field(run, "id"));
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool all_ended(const boost::json::array& runs) {
  for (const auto& run : objects(runs)) {
    if (!testing::run_ended(run)) return false;
  }
  return true;
}

// Both controllers list the same runs of the job, through both list routes; returns them.
boost::json::array agreed_runs(AutomationApi& a, AutomationApi& b, const Job& job) {
  const auto from_a = a.job_runs(job.id);
  const auto from_b = b.job_runs(job.id);
  const auto listed = b.list_runs("job_id=" + job.id + "&limit=1000");
  const auto ids = run_ids(from_a);
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());  // no run listed twice
  CHECK(run_ids(from_b) == ids);
  CHECK(run_ids(listed) == ids);
  for (const auto& run : objects(listed)) CHECK(optional_string(run, "job_id") == job.id);
  return listed;
}

// Each run ran the job's command exactly once: one operation that completed with exit code 0,
// and one line in the job's file per run.
void check_each_run_ran_once(AutomationApi& a, AutomationApi& b, const Job& job, const boost::json::array& runs) {
  std::size_t index = 0;
  std::size_t completed = 0;
  for (const auto& listed : objects(runs)) {
    auto& api = (index++ % 2 == 0) ? a : b;
    const auto run = api.get_run(string_field(listed, "id"));
    INFO("run " << boost::json::serialize(run));
    CHECK(string_field(run, "status") == "completed");
    const auto operations = run_operations(run);
    CHECK(operations.size() == 1);
    if (operations.size() == 1 && string_field(operations.front(), "status") == "completed" &&
        int_field(operations.front(), "exit_code") == 0) {
      ++completed;
    }
  }
  CHECK(completed == runs.size());
  CHECK(lines_in(job.ticks) == runs.size());
}

// One run per due time, due times exactly `interval` apart from the first to the last, at least
// `min_runs` of them, none after the job was disabled.
void check_exactly_once(const Job& job, const boost::json::array& runs, std::int64_t interval, std::size_t min_runs,
                        std::int64_t disabled_at) {
  INFO("job " << job.name << " (" << job.id << ") with " << runs.size() << " runs");

  const auto repeated = repeated_scheduled_at(runs);
  std::string repeats;
  for (const auto& [at, count] : repeated) repeats += fmt::format("{} µs: {} runs; ", at, count);
  INFO("due times fired more than once: " << repeats);
  CHECK(repeated.empty());

  std::set<std::string> fire_ids;
  std::size_t with_fire_id = 0;
  for (const auto& run : objects(runs)) {
    if (auto fire_id = optional_string(run, "fire_id")) {
      ++with_fire_id;
      fire_ids.insert(*fire_id);
    }
  }
  CHECK(fire_ids.size() == with_fire_id);  // no firing recorded twice

  const auto sorted = by_scheduled_at(runs);
  CHECK(sorted.size() >= min_runs);
  std::string holes;
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const auto gap = sorted[i].first - sorted[i - 1].first;
    if (gap != interval) holes += fmt::format("#{}→#{}: {} µs; ", i - 1, i, gap);
  }
  INFO("consecutive due times not one interval apart: " << holes);
  CHECK(holes.empty());
  if (!sorted.empty()) CHECK(sorted.back().first <= disabled_at);
}

}  // namespace

TEST_CASE("two controllers on one database fire every due time of a 1 s interval job exactly once and without holes, "
          "beside other jobs",
          "[e2e][reliability][scheduler]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.master_key = true;
  options.controller_args = {"--instance-id", "e2e-controller-a"};
  testing::TetherStack stack(database, options);  // the agent connects to this one
  testing::ExtraController second(stack, "e2e-controller-b");
  AutomationApi a(stack);
  AutomationApi b(second.client_options(), stack.admin_key());
  const auto logs = [&] {
    const auto log = second.log();
    return stack_logs(stack) + "\n--- second controller log (tail):\n" +
           (log.size() > 6000 ? "..." + log.substr(log.size() - 6000) : log);
  };

  // Jobs made through either controller; each controller's scheduler sees all of them.
  const auto main = create_job(b, stack, "every-1s", every("1s"));
  const auto two = create_job(a, stack, "every-2s", every("2s"));
  const auto three = create_job(b, stack, "every-3s", every("3s"));
  const std::chrono::system_clock::time_point at =
      std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + 5s;
  const auto once = create_job(a, stack, "once", boost::json::object{{"mode", "at"}, {"time", testing::rfc3339(at)}});
  const auto manual = create_job(a, stack, "manual", std::nullopt);
  for (int i = 0; i < 3; ++i) {
    a.trigger_job(manual.id);
    b.trigger_job(manual.id);
  }

  // More than 30 due times of the 1 s job (about 32 s).
  try {
    a.wait_for_job_runs(
        main.id, [](const boost::json::array& runs) { return runs.size() >= 32; }, 70s, "32 runs");
  } catch (const std::exception& error) {
    FAIL(error.what() << "\n" << logs());
  }

  // Stopped through the other controller than the one that made them.
  a.patch_job(main.id, {{"enabled", false}});
  b.patch_job(two.id, {{"enabled", false}});
  a.patch_job(three.id, {{"enabled", false}});
  const auto disabled_at = now_micros();

  for (const auto* job : {&main, &two, &three, &once, &manual}) {
    INFO("job " << job->name << "\n" << logs());
    REQUIRE_NOTHROW(a.wait_for_job_runs(job->id, all_ended, 60s, "every run ended"));
  }
  INFO(logs());

  {
    const auto runs = agreed_runs(a, b, main);
    check_exactly_once(main, runs, kSecond, 32, disabled_at);
    check_each_run_ran_once(a, b, main, runs);
  }
  {
    // 32 s at 2 s and 3 s.
    const auto runs = agreed_runs(a, b, two);
    check_exactly_once(two, runs, 2 * kSecond, 14, disabled_at);
    check_each_run_ran_once(a, b, two, runs);
  }
  {
    const auto runs = agreed_runs(a, b, three);
    check_exactly_once(three, runs, 3 * kSecond, 9, disabled_at);
    check_each_run_ran_once(a, b, three, runs);
  }
  {
    const auto runs = agreed_runs(a, b, once);
    REQUIRE(runs.size() == 1);
    CHECK(epoch_micros(runs.front().as_object().at("scheduled_at")) == epoch_micros(at));
    check_each_run_ran_once(a, b, once, runs);
    CHECK(a.get_job(once.id).at("enabled") == false);
  }
  {
    const auto runs = agreed_runs(a, b, manual);
    CHECK(runs.size() == 6);  // one per trigger, whichever controller took it
    check_each_run_ran_once(a, b, manual, runs);
  }
}
