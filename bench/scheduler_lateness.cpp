// scheduler_lateness: how late the scheduler fires jobs that are due together. JOBS interval jobs,
// each due every INTERVAL on one server of a swarm of simulated agents (round-robin), fire for
// SECONDS; then each job's runs are read back and the lateness of a firing is its run's
// `created_at` minus its `scheduled_at`.
//
//   scheduler_lateness --url URL --admin-key tak_... [--jobs 1000] [--agents N] [--seconds 60]
//                      [--interval 1s] [--controller-pid PID]
//                      [--ca-file PEM] [--insecure] [--concurrency 200] [--swarm-threads 2] [--api-parallel 8]
//                      [--agent-url URL] [--connect-timeout-seconds 600]
//
// --agents defaults to --jobs (one server per job). Only runs scheduled inside the window (from
// the last job's creation to the end of SECONDS) count: the first jobs fire while the last are
// still being created, and the jobs go on firing while they are disabled. At the end every job
// is disabled (PATCH enabled=false), its runs read (GET /api/automation/runs?job_id=...), and
// deleted. Flags may also come from TETHER_* variables.
#include "bench/fleet.hpp"
#include "bench/latency_stats.hpp"
#include "common/config.hpp"
#include "common/time.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

namespace {

namespace bench = tether::bench;
using Clock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr double kGoalP99Ms = 100;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::optional<SystemClock::time_point> time_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (!value || !value->is_string()) return std::nullopt;
  return tether::timeutil::parse_rfc3339(value->as_string());
}

double to_ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Seconds in an interval such as "1s", "2m", "1h", for the expected number of firings only.
std::optional<double> interval_seconds(const std::string& interval) {
  if (interval.size() < 2) return std::nullopt;
  const char unit = interval.back();
  double value = 0;
  try {
    std::size_t used = 0;
    value = std::stod(interval.substr(0, interval.size() - 1), &used);
    if (used != interval.size() - 1 || value <= 0) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  switch (unit) {
    case 's': return value;
    case 'm': return value * 60;
    case 'h': return value * 3600;
    default: return std::nullopt;
  }
}

struct Spread {
  std::size_t samples = 0;
  double p50 = 0, p99 = 0, max = 0, min = 0;
};

Spread spread_of(std::vector<std::chrono::nanoseconds> values) {
  Spread s;
  s.samples = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.p50 = to_ms(bench::percentile(values, 50));
  s.p99 = to_ms(bench::percentile(values, 99));
  s.max = to_ms(values.back());
  s.min = to_ms(values.front());
  return s;
}

// Disables and deletes the benchmark's jobs however the benchmark ends.
class JobCleanup {
 public:
  JobCleanup(const bench::FleetSettings& settings, std::vector<std::string>& ids) : settings_(settings), ids_(ids) {}
  ~JobCleanup() {
    try {
      remove();
    } catch (const std::exception& e) {
      fmt::print(stderr, "scheduler_lateness: deleting the jobs failed: {}\n", e.what());
    }
  }
  void disable() {
    const boost::json::value body = {{"enabled", false}};
    bench::for_each_with_client(settings_.api, ids_.size(), settings_.api_parallel,
                                [&](std::size_t i, tether::http::Client& client) {
                                  if (ids_[i].empty()) return;
                                  bench::call(client, settings_.api, "PATCH", "/api/automation/jobs/" + ids_[i], &body, 200);
                                });
  }
  void remove() {
    if (removed_) return;
    removed_ = true;
    bench::for_each_with_client(settings_.api, ids_.size(), settings_.api_parallel,
                                [&](std::size_t i, tether::http::Client& client) {
                                  if (ids_[i].empty()) return;
                                  bench::call(client, settings_.api, "DELETE", "/api/automation/jobs/" + ids_[i], nullptr, 204);
                                });
  }

 private:
  const bench::FleetSettings& settings_;
  std::vector<std::string>& ids_;
  bool removed_ = false;
};

// Every run of a job, newest first, following next_cursor when a page is full.
std::vector<boost::json::object> runs_of(const bench::FleetSettings& settings, tether::http::Client& client,
                                         const std::string& job_id) {
  std::vector<boost::json::object> runs;
  std::string cursor;
  do {
    auto target = fmt::format("/api/automation/runs?job_id={}&limit=1000", job_id);
    if (!cursor.empty()) target += "&cursor=" + cursor;
    const auto page = bench::call(client, settings.api, "GET", target, nullptr, 200).as_object();
    for (const auto& run : page.at("runs").as_array()) runs.push_back(run.as_object());
    cursor.clear();
    if (const auto* next = page.if_contains("next_cursor"); next && next->is_string()) cursor = next->as_string();
  } while (!cursor.empty());
  return runs;
}

int run(const tether::config::Options& options) {
  const auto settings = bench::read_fleet_settings(options);
  const auto jobs = static_cast<std::size_t>(options.get_int("jobs", 1000, 1, 100000));
  const auto agents = static_cast<std::size_t>(options.get_int("agents", static_cast<long>(jobs), 1, 100000));
  const long seconds = options.get_int("seconds", 60, 1, 86400);
  const auto interval = options.get_or("interval", "1s");
  const auto name_prefix = "lateness-" + bench::run_tag();

  auto fleet = bench::start_fleet(settings, agents, [](std::size_t) { return std::vector<std::string>{"swarm"}; });

  std::vector<std::string> job_ids(jobs);
  JobCleanup cleanup(settings, job_ids);
  auto start = Clock::now();
  bench::for_each_with_client(settings.api, jobs, settings.api_parallel, [&](std::size_t i, tether::http::Client& client) {
    const auto& server = fleet.servers[i % agents];
    const boost::json::value body = {
        {"name", fmt::format("{}-{:05}", name_prefix, i)},
        {"schedule", {{"mode", "interval"}, {"interval", interval}}},
        {"operation", {{"type", "exec"}, {"params", {{"command", "true"}}}}},
        {"targets", {{"server_ids", boost::json::array{server.id.c_str()}}}},
    };
    const auto answer = bench::call(client, settings.api, "POST", "/api/automation/jobs", &body, 201);
    job_ids[i] = std::string(answer.at("job").at("id").as_string());
  });
  const auto window_start = SystemClock::now();
  fmt::print("created {} interval jobs (every {}) in {:.1f} s; measuring for {} s\n", jobs, interval,
             seconds_since(start), seconds);
  std::fflush(stdout);

  start = Clock::now();
  const auto dispatches_before = fleet.swarm->counts().dispatches;
  auto next_report = start + 10s;
  while (Clock::now() < start + std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(50ms);
    if (Clock::now() >= next_report) {
      const auto counts = fleet.swarm->counts();
      fmt::print("  [{:5.0f} s] dispatches {} ({:.0f}/s), {} agents connected; controller {}\n", seconds_since(start),
                 counts.dispatches - dispatches_before,
                 static_cast<double>(counts.dispatches - dispatches_before) / seconds_since(start), counts.connected,
                 bench::controller_memory(settings));
      std::fflush(stdout);
      next_report += 10s;
    }
  }
  const auto window_end = SystemClock::now();
  const auto counts_at_end = fleet.swarm->counts();
  const auto memory_at_end = bench::controller_memory(settings);

  start = Clock::now();
  cleanup.disable();
  fmt::print("disabled the jobs in {:.1f} s; reading their runs\n", seconds_since(start));
  std::mutex mutex;
  std::vector<std::chrono::nanoseconds> lateness, start_lateness;
  std::map<std::string, std::size_t> statuses;
  std::size_t outside_window = 0, unscheduled = 0;
  bench::for_each_with_client(settings.api, jobs, settings.api_parallel, [&](std::size_t i, tether::http::Client& client) {
    const auto runs = runs_of(settings, client, job_ids[i]);
    std::lock_guard lock(mutex);
    for (const auto& run : runs) {
      const auto scheduled = time_field(run, "scheduled_at");
      const auto created = time_field(run, "created_at");
      if (!scheduled || !created) {
        ++unscheduled;
        continue;
      }
      if (*scheduled < window_start || *scheduled >= window_end) {
        ++outside_window;
        continue;
      }
      lateness.push_back(*created - *scheduled);
      if (auto started = time_field(run, "started_at")) start_lateness.push_back(*started - *scheduled);
      const auto* status = run.if_contains("status");
      ++statuses[status && status->is_string() ? std::string(status->as_string()) : "?"];
    }
  });
  cleanup.remove();

  const double window_seconds = std::chrono::duration<double>(window_end - window_start).count();
  fmt::print("\nscheduler lateness: {} interval jobs every {}, one target each on {} simulated agents, {:.1f} s window\n",
             jobs, interval, agents, window_seconds);
  std::string expected = "n/a";
  if (auto every = interval_seconds(interval)) {
    expected = fmt::format("{:.0f}", static_cast<double>(jobs) * window_seconds / *every);
  }
  std::string status_text;
  for (const auto& [status, count] : statuses) status_text += fmt::format(" {} {}", status, count);
  fmt::print("runs in the window: {} (expected about {}); by status:{}; outside the window: {}, without "
             "scheduled_at/created_at: {}\n",
             lateness.size(), expected, status_text.empty() ? " none" : status_text, outside_window, unscheduled);
  fmt::print("swarm during the window: {} dispatches, {} disconnects; controller at the window's end: {}\n",
             counts_at_end.dispatches - dispatches_before, counts_at_end.disconnects, memory_at_end);
  fmt::print("{:<28} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "", "runs", "min ms", "p50 ms", "p99 ms", "max ms");
  const auto created = spread_of(lateness);
  const auto started = spread_of(start_lateness);
  fmt::print("{:<28} {:>9} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}\n", "created_at - scheduled_at", created.samples,
             created.min, created.p50, created.p99, created.max);
  fmt::print("{:<28} {:>9} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}\n", "started_at - scheduled_at", started.samples,
             started.min, started.p50, started.p99, started.max);
  if (created.samples == 0) {
    fmt::print("goal: p99 of created_at - scheduled_at <= {:.0f} ms: not measured (no run in the window)\n", kGoalP99Ms);
  } else {
    fmt::print("goal: p99 of created_at - scheduled_at <= {:.0f} ms: {:.1f} ms, {}\n", kGoalP99Ms, created.p99,
               created.p99 <= kGoalP99Ms ? "met" : "NOT met");
  }
  fleet.swarm->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto known = bench::fleet_flags;
  known.insert({"jobs", "agents", "seconds", "interval"});
  return bench::run_main(argc, argv, "scheduler_lateness", known, {"insecure"},
                         "--url URL --admin-key tak_... [--jobs 1000] [--agents N] [--seconds 60] [--interval 1s] "
                         "[--controller-pid PID] [--ca-file PEM] [--insecure] [--concurrency 200] "
                         "[--swarm-threads 2] [--api-parallel 8] [--agent-url URL] [--connect-timeout-seconds 600]",
                         run);
}
