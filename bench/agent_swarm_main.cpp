// agent_swarm: N simulated agents in one process, connected to a controller over the real agent
// protocol (see agent_swarm.hpp), kept up until the duration ends or the process is stopped.
//
//   agent_swarm --url URL (--admin-key tak_... --count N | --tokens-file FILE)
//               [--ca-file PEM | --insecure] [--concurrency 200] [--threads 2]
//               [--finish-delay-ms 0] [--no-output] [--tag swarm] [--write-tokens FILE]
//               [--controller-pid PID] [--exec-check] [--duration SECONDS] [--report-seconds 10]
//
// With --admin-key and --count it registers N servers tagged `swarm` first (POST /api/servers)
// and, with --write-tokens, keeps "server_id token" lines in FILE (mode 600) for a later
// --tokens-file. With --admin-key it also reads GET /api/servers at each report, to show what
// the controller believes: how many of the swarm's servers are connected and active.
// --exec-check runs one POST /api/automation/v1/exec of `true` on the first swarm server once
// all are connected, with an rca_ key made for it. Flags may also come from TETHER_* variables
// (TETHER_URL, TETHER_ADMIN_KEY, TETHER_CA_FILE: `source .tether/dev.env` sets them).
#include "bench/agent_swarm.hpp"
#include "bench/bench_api.hpp"
#include "common/config.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace bench = tether::bench;

std::atomic<bool> stop_requested{false};

extern "C" void on_signal(int) { stop_requested = true; }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Fleet {
  std::vector<std::string> server_ids;
  std::vector<std::string> tokens;
};

Fleet read_tokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read " + path);
  Fleet fleet;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string id, token;
    if (!(words >> id >> token)) continue;
    fleet.server_ids.push_back(id);
    fleet.tokens.push_back(token);
  }
  if (fleet.tokens.empty()) throw std::invalid_argument(path + " holds no \"server_id token\" lines");
  return fleet;
}

void write_tokens(const std::string& path, const Fleet& fleet) {
  const auto old_mask = ::umask(077);
  std::ofstream out(path, std::ios::trunc);
  ::umask(old_mask);
  if (!out) throw std::runtime_error("cannot write " + path);
  for (std::size_t i = 0; i < fleet.tokens.size(); ++i) out << fleet.server_ids[i] << ' ' << fleet.tokens[i] << '\n';
}

std::string memory_of(std::optional<pid_t> pid) {
  if (!pid) return "";
  const auto rss = bench::proc_status_mib(*pid, "VmRSS");
  const auto hwm = bench::proc_status_mib(*pid, "VmHWM");
  if (!rss || !hwm) return "; controller memory unreadable";
  return fmt::format("; controller VmRSS {:.1f} MiB, VmHWM {:.1f} MiB", *rss, *hwm);
}

void report(const bench::AgentSwarm& swarm, const std::optional<bench::ApiSettings>& api,
            const std::set<std::string>& ids, std::optional<pid_t> controller_pid, Clock::time_point start) {
  const auto counts = swarm.counts();
  std::string tally;
  if (api) {
    try {
      const auto t = bench::tally_servers(*api, ids);
      tally = fmt::format("; GET /api/servers: {} listed, {} connected, {} active", t.listed, t.connected, t.active);
    } catch (const std::exception& e) {
      tally = fmt::format("; GET /api/servers failed: {}", e.what());
    }
  }
  fmt::print("[{:7.1f} s] connected {}/{}, disconnects {}, failed attempts {}, heartbeats {}, dispatches {}, "
             "finished_acks {}{}{}\n",
             seconds_since(start), counts.connected, counts.agents, counts.disconnects, counts.connect_failures,
             counts.heartbeats, counts.dispatches, counts.finished_acks, tally, memory_of(controller_pid));
  std::fflush(stdout);
}

void exec_check(const bench::ApiSettings& api, const std::string& server_id) {
  const auto key = bench::create_exec_key(api, "agent-swarm-exec-check-" + bench::run_tag(), server_id);
  auto client = bench::make_client(api);
  const boost::json::object body{{"server_id", server_id}, {"command", "true"}, {"timeout_seconds", 30}};
  const auto start = Clock::now();
  const auto response =
      client.post("/api/automation/v1/exec", boost::json::serialize(body), {tether::http::bearer(key)});
  fmt::print("exec check: POST /api/automation/v1/exec on swarm server {} answered HTTP {} in {:.1f} ms: {}\n",
             server_id, response.status, seconds_since(start) * 1000, response.body);
  const auto parsed = boost::json::parse(response.body);
  if (response.status != 200 || parsed.at("status").as_string() != "completed" || parsed.at("exit_code").as_int64() != 0) {
    throw std::runtime_error("the exec check did not complete with exit code 0");
  }
}

int run(const tether::config::Options& options) {
  const auto url = options.require("url");
  const auto admin_key = options.get("admin-key");
  std::optional<bench::ApiSettings> api;
  if (admin_key) api = bench::ApiSettings{url, options.get_or("ca-file", ""), *admin_key};
  std::optional<pid_t> controller_pid;
  if (auto pid = options.get("controller-pid")) controller_pid = static_cast<pid_t>(options.get_int("controller-pid", 0, 1, 1 << 30));

  const auto fd_limit = bench::raise_open_file_limit();
  fmt::print("open file limit: {}\n", fd_limit);

  Fleet fleet;
  if (auto path = options.get("tokens-file")) {
    fleet = read_tokens(*path);
    fmt::print("{} server tokens from {}\n", fleet.tokens.size(), *path);
  } else {
    if (!api) throw std::invalid_argument("--tokens-file or --admin-key (with --count) is required");
    const auto count = static_cast<std::size_t>(options.get_int("count", 0, 1, 100000));
    if (count == 0) throw std::invalid_argument("--count N is required with --admin-key");
    const auto tag = options.get_or("tag", "swarm");
    const auto start = Clock::now();
    const auto servers = bench::create_servers(
        *api, count, "swarm-" + bench::run_tag(), [&](std::size_t) { return std::vector<std::string>{tag}; }, 8,
        [&](std::size_t done) { fmt::print("  registered {}/{} servers ({:.1f} s)\n", done, count, seconds_since(start)); });
    const double took = seconds_since(start);
    fmt::print("registered {} servers tagged '{}' in {:.1f} s ({:.0f}/s)\n", count, tag, took,
               static_cast<double>(count) / took);
    for (const auto& server : servers) {
      fleet.server_ids.push_back(server.id);
      fleet.tokens.push_back(server.agent_token);
    }
    if (auto path = options.get("write-tokens")) write_tokens(*path, fleet);
  }
  const std::set<std::string> ids(fleet.server_ids.begin(), fleet.server_ids.end());
  if (fd_limit < fleet.tokens.size() + 64) {
    fmt::print("warning: the open file limit ({}) is below the number of agents ({})\n", fd_limit, fleet.tokens.size());
  }

  bench::SwarmOptions swarm_options;
  swarm_options.url = url;
  swarm_options.tokens = fleet.tokens;
  swarm_options.ca_file = options.get_or("ca-file", "");
  swarm_options.insecure = options.has_switch("insecure");
  swarm_options.connect_concurrency = static_cast<std::size_t>(options.get_int("concurrency", 200, 1, 100000));
  swarm_options.threads = static_cast<int>(options.get_int("threads", 2, 1, 2));
  swarm_options.send_output = !options.has_switch("no-output");
  swarm_options.finish_delay = std::chrono::milliseconds(options.get_int("finish-delay-ms", 0, 0, 3'600'000));
  const long duration = options.get_int("duration", 0, 0, 365L * 86400);
  const long report_seconds = options.get_int("report-seconds", 10, 1, 86400);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  bench::AgentSwarm swarm(swarm_options);
  const auto start = Clock::now();
  swarm.start();
  const auto connected = swarm.wait_connected(fleet.tokens.size(), std::chrono::minutes(10), [&](const bench::SwarmCounts& c) {
    fmt::print("  [{:6.1f} s] connected {}/{}, failed attempts {}\n", seconds_since(start), c.connected, c.agents,
               c.connect_failures);
    std::fflush(stdout);
  });
  const double connect_seconds = seconds_since(start);
  fmt::print("connected {}/{} agents in {:.2f} s ({:.0f}/s), {} concurrent handshakes at most{}\n", connected,
             fleet.tokens.size(), connect_seconds, static_cast<double>(connected) / connect_seconds,
             swarm_options.connect_concurrency, memory_of(controller_pid));
  for (const auto& sample : swarm.failure_samples()) fmt::print("  a failure: {}\n", sample);
  report(swarm, api, ids, controller_pid, start);

  if (options.has_switch("exec-check")) {
    if (!api) throw std::invalid_argument("--exec-check needs --admin-key");
    exec_check(*api, fleet.server_ids.front());
  }

  auto next_report = Clock::now() + std::chrono::seconds(report_seconds);
  const auto end = duration > 0 ? Clock::now() + std::chrono::seconds(duration) : Clock::time_point::max();
  auto last_report = Clock::now();
  while (!stop_requested && Clock::now() < end) {
    std::this_thread::sleep_for(100ms);
    if (Clock::now() >= next_report) {
      swarm.clear_records();  // nothing here reads them: keep their memory bounded
      report(swarm, api, ids, controller_pid, start);
      last_report = Clock::now();
      next_report += std::chrono::seconds(report_seconds);
    }
  }
  if (Clock::now() - last_report > 1s) report(swarm, api, ids, controller_pid, start);
  for (const auto& sample : swarm.failure_samples()) fmt::print("  a failure: {}\n", sample);
  swarm.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tether::bench::run_main(
      argc, argv, "agent_swarm",
      {"url", "admin-key", "count", "tokens-file", "write-tokens", "ca-file", "insecure", "concurrency", "threads",
       "finish-delay-ms", "no-output", "tag", "controller-pid", "exec-check", "duration", "report-seconds"},
      {"insecure", "no-output", "exec-check"},
      "--url URL (--admin-key tak_... --count N | --tokens-file FILE) [--ca-file PEM | --insecure] "
      "[--concurrency 200] [--threads 2] [--finish-delay-ms 0] [--no-output] [--tag swarm] [--write-tokens FILE] "
      "[--controller-pid PID] [--exec-check] [--duration SECONDS] [--report-seconds 10]",
      run);
}
