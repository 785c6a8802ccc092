// fanout: how long one ad hoc run takes to fan a trivial command out to N servers and store
// every result, and what the controller's memory does meanwhile. The fleet is a swarm of
// simulated agents in this process (agent_swarm.hpp), each answering its dispatch at once, so
// the figure is the controller's and PostgreSQL's work, not the commands'.
//
//   fanout --url URL --admin-key tak_... [--sizes 1000,10000] [--runs 3] [--controller-pid PID]
//          [--tag swarm] [--poll-ms 20] [--run-timeout-seconds 300]
//          [--ca-file PEM] [--insecure] [--concurrency 200] [--swarm-threads 2] [--api-parallel 8]
//          [--agent-url URL] [--connect-timeout-seconds 600]
//
// It registers as many servers as the largest size, all tagged `swarm` (--tag), the first N of
// them also `swarm-N` for each smaller size N; connects an agent for each; then, per size and
// run, posts
//   POST /api/automation/runs {"operation":{"type":"exec","params":{"command":"true"}},
//                              "targets":{"tags":[TAG]},"rate":{"max_concurrency":"100%"}}
// and waits until the run reads `completed` or `failed` in GET /api/automation/runs/{id}.
// Flags may also come from TETHER_* variables (./dev.sh bench fanout passes the admin key so).
#include "bench/fleet.hpp"
#include "common/config.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

namespace {

namespace bench = tether::bench;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kGoalTargets = 10000;
constexpr double kGoalSeconds = 5.0;

struct RunFigures {
  double post_ms = 0;            // the POST's answer
  double first_dispatch_ms = 0;  // the swarm's first dispatch of the run
  double last_dispatch_ms = 0;
  double last_stored_ms = 0;  // the last finished_ack: every result stored
  double completed_ms = 0;    // the run first read `completed` (or `failed`)
  double ops_per_second = 0;  // targets / completed
  double rss_mib = 0;         // controller VmRSS after the run (0 without its pid)
  double hwm_mib = 0;         // controller VmHWM after the run
};

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::vector<std::size_t> parse_sizes(const std::string& list) {
  std::vector<std::size_t> sizes;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto end = std::min(list.find(',', start), list.size());
    const auto word = list.substr(start, end - start);
    if (!word.empty()) {
      std::size_t used = 0;
      long value = 0;
      try {
        value = std::stol(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size() || value < 1 || value > 100000) {
        throw std::invalid_argument("--sizes must be numbers from 1 to 100000 separated by commas, got '" + list + "'");
      }
      sizes.push_back(static_cast<std::size_t>(value));
    }
    start = end + 1;
  }
  if (sizes.empty()) throw std::invalid_argument("--sizes names no size");
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

std::string string_of(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::int64_t count_of(const boost::json::object& run, std::string_view key) {
  const auto* targets = run.if_contains("targets");
  if (!targets || !targets->is_object()) return -1;
  const auto* value = targets->as_object().if_contains(key);
  return value && value->is_int64() ? value->as_int64() : -1;
}

bool ended(const std::string& status) { return status == "completed" || status == "failed" || status == "canceled"; }

RunFigures measure_run(const bench::FleetSettings& settings, bench::AgentSwarm& swarm, const std::string& tag,
                       std::size_t size, std::chrono::milliseconds poll, std::chrono::seconds timeout) {
  auto client = bench::make_client(settings.api);
  swarm.clear_records();
  const boost::json::value body = {
      {"operation", {{"type", "exec"}, {"params", {{"command", "true"}}}}},
      {"targets", {{"tags", boost::json::array{tag.c_str()}}}},
      {"rate", {{"max_concurrency", "100%"}}},
  };
  const auto start = Clock::now();
  const auto created = bench::call(client, settings.api, "POST", "/api/automation/runs", &body, 201);
  const auto posted = Clock::now();
  const auto run_id = string_of(created.at("run").as_object(), "id");
  if (run_id.empty()) throw std::runtime_error("POST /api/automation/runs answered no run id: " + boost::json::serialize(created));

  // While results come in, the run is read only once a second (reading a run of 10,000
  // operations is work for the controller too); once the swarm has every finished_ack, which
  // the controller sends after storing the result, it is read every `poll`.
  const auto deadline = start + timeout;
  boost::json::object run;
  std::string status;
  Clock::time_point done;
  while (true) {
    const bool all_stored = swarm.wait_finished_acks(size, 1s);  // at once when all are stored
    run = bench::call(client, settings.api, "GET", "/api/automation/runs/" + run_id, nullptr, 200).at("run").as_object();
    status = string_of(run, "status");
    if (ended(status)) {
      done = Clock::now();
      break;
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error(fmt::format("run {} still '{}' after {} s: {} of {} results stored", run_id, status,
                                           timeout.count(), swarm.records().size(), size));
    }
    if (all_stored) std::this_thread::sleep_for(poll);
  }
  if (status != "completed" || count_of(run, "total") != static_cast<std::int64_t>(size) ||
      count_of(run, "succeeded") != static_cast<std::int64_t>(size)) {
    run.erase("operations");  // keep the message readable
    throw std::runtime_error(fmt::format("run {} of {} targets ended '{}' instead of completed by all: {}", run_id, size,
                                         status, boost::json::serialize(run)));
  }

  RunFigures figures;
  figures.post_ms = ms_between(start, posted);
  figures.completed_ms = ms_between(start, done);
  figures.ops_per_second = static_cast<double>(size) / (figures.completed_ms / 1000.0);
  const auto records = swarm.records();
  if (records.size() != size) {
    throw std::runtime_error(fmt::format("the swarm saw {} dispatches for a run of {} targets", records.size(), size));
  }
  auto first = records.front().dispatched, last = first;
  auto stored = start;
  for (const auto& record : records) {
    first = std::min(first, record.dispatched);
    last = std::max(last, record.dispatched);
    if (record.finished_acked) stored = std::max(stored, *record.finished_acked);
  }
  figures.first_dispatch_ms = ms_between(start, first);
  figures.last_dispatch_ms = ms_between(start, last);
  figures.last_stored_ms = ms_between(start, stored);
  if (settings.controller_pid) {
    figures.rss_mib = bench::proc_status_mib(*settings.controller_pid, "VmRSS").value_or(0);
    figures.hwm_mib = bench::proc_status_mib(*settings.controller_pid, "VmHWM").value_or(0);
  }
  return figures;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

RunFigures median_of(const std::vector<RunFigures>& runs) {
  auto figure = [&runs](double RunFigures::*field) {
    std::vector<double> values;
    for (const auto& run : runs) values.push_back(run.*field);
    return median(std::move(values));
  };
  return {figure(&RunFigures::post_ms),          figure(&RunFigures::first_dispatch_ms),
          figure(&RunFigures::last_dispatch_ms), figure(&RunFigures::last_stored_ms),
          figure(&RunFigures::completed_ms),     figure(&RunFigures::ops_per_second),
          figure(&RunFigures::rss_mib),          figure(&RunFigures::hwm_mib)};
}

void print_header() {
  fmt::print("{:<8} {:>8} {:>9} {:>10} {:>10} {:>10} {:>11} {:>9} {:>10} {:>10}\n", "run", "targets", "POST ms",
             "1st disp", "last disp", "stored ms", "complete ms", "ops/s", "RSS MiB", "HWM MiB");
  std::fflush(stdout);
}

void print_row(const std::string& label, std::size_t size, const RunFigures& f) {
  fmt::print("{:<8} {:>8} {:>9.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>11.1f} {:>9.0f} {:>10.1f} {:>10.1f}\n", label, size,
             f.post_ms, f.first_dispatch_ms, f.last_dispatch_ms, f.last_stored_ms, f.completed_ms, f.ops_per_second,
             f.rss_mib, f.hwm_mib);
  std::fflush(stdout);
}

int run(const tether::config::Options& options) {
  const auto settings = bench::read_fleet_settings(options);
  const auto sizes = parse_sizes(options.get_or("sizes", "1000,10000"));
  const long runs = options.get_int("runs", 3, 1, 1000);
  const auto tag = options.get_or("tag", "swarm");
  const auto poll = std::chrono::milliseconds(options.get_int("poll-ms", 20, 1, 60000));
  const auto timeout = std::chrono::seconds(options.get_int("run-timeout-seconds", 300, 1, 86400));
  const std::size_t largest = sizes.back();

  auto tag_for = [&](std::size_t size) { return size == largest ? tag : fmt::format("{}-{}", tag, size); };
  auto fleet = bench::start_fleet(settings, largest, [&](std::size_t i) {
    std::vector<std::string> tags{tag};
    for (auto size : sizes) {
      if (size != largest && i < size) tags.push_back(tag_for(size));
    }
    return tags;
  });
  // A run targets every server carrying the tag: one outside the swarm would never answer.
  const auto tally = bench::tally_servers(settings.api, fleet.server_ids, tag);
  if (tally.others_with_tag > 0) {
    throw std::runtime_error(fmt::format("{} servers outside this benchmark's fleet carry the tag '{}'; choose "
                                         "another with --tag",
                                         tally.others_with_tag, tag));
  }
  fmt::print("GET /api/servers: {} of the fleet listed, {} connected, {} active; controller before the runs: {}\n\n",
             tally.listed, tally.connected, tally.active, bench::controller_memory(settings));

  fmt::print("fanout: POST /api/automation/runs of `true` to every server of a tag (max_concurrency 100%), {} run(s) "
             "per size; ms from the POST\n",
             runs);
  print_header();
  std::map<std::size_t, RunFigures> medians;
  for (auto size : sizes) {
    std::vector<RunFigures> figures;
    for (long r = 1; r <= runs; ++r) {
      std::this_thread::sleep_for(1s);  // lets the previous run's bookkeeping settle
      figures.push_back(measure_run(settings, *fleet.swarm, tag_for(size), size, poll, timeout));
      print_row(std::to_string(r), size, figures.back());
    }
    medians[size] = median_of(figures);
    print_row("median", size, medians[size]);
  }
  const auto counts = fleet.swarm->counts();
  fmt::print("swarm: {} agents, {} connected at the end, {} disconnects, {} dispatches, {} finished_acks\n",
             counts.agents, counts.connected, counts.disconnects, counts.dispatches, counts.finished_acks);
  fmt::print("controller at the end: {}\n", bench::controller_memory(settings));
  if (auto it = medians.find(kGoalTargets); it != medians.end()) {
    fmt::print("goal: {} targets completed in <= {:.0f} s (median): {:.2f} s, {}\n", kGoalTargets, kGoalSeconds,
               it->second.completed_ms / 1000, it->second.completed_ms / 1000 <= kGoalSeconds ? "met" : "NOT met");
  } else {
    fmt::print("goal: {} targets completed in <= {:.0f} s (median): not measured (add {} to --sizes)\n", kGoalTargets,
               kGoalSeconds, kGoalTargets);
  }
  fleet.swarm->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto known = bench::fleet_flags;
  known.insert({"sizes", "runs", "tag", "poll-ms", "run-timeout-seconds"});
  return bench::run_main(argc, argv, "fanout", known, {"insecure"},
                         "--url URL --admin-key tak_... [--sizes 1000,10000] [--runs 3] [--controller-pid PID] "
                         "[--tag swarm] [--poll-ms 20] [--run-timeout-seconds 300] [--ca-file PEM] [--insecure] "
                         "[--concurrency 200] [--swarm-threads 2] [--api-parallel 8] [--agent-url URL] "
                         "[--connect-timeout-seconds 600]",
                         run);
}
