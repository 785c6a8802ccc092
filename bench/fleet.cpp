#include "bench/fleet.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

namespace tether::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

FleetSettings read_fleet_settings(const config::Options& options) {
  FleetSettings settings;
  settings.api.url = options.require("url");
  settings.api.admin_key = options.require("admin-key");
  settings.api.ca_file = options.get_or("ca-file", "");
  settings.agent_url = options.get_or("agent-url", settings.api.url);
  settings.insecure = options.has_switch("insecure");
  settings.connect_concurrency = static_cast<std::size_t>(options.get_int("concurrency", 200, 1, 100000));
  settings.swarm_threads = static_cast<int>(options.get_int("swarm-threads", 2, 1, 2));
  settings.api_parallel = static_cast<std::size_t>(options.get_int("api-parallel", 8, 1, 64));
  settings.connect_timeout = std::chrono::seconds(options.get_int("connect-timeout-seconds", 600, 1, 86400));
  if (options.get("controller-pid")) {
    settings.controller_pid = static_cast<pid_t>(options.get_int("controller-pid", 0, 1, 1 << 30));
  }
  return settings;
}

std::string controller_memory(const FleetSettings& settings) {
  if (!settings.controller_pid) return "n/a";
  const auto rss = proc_status_mib(*settings.controller_pid, "VmRSS");
  const auto hwm = proc_status_mib(*settings.controller_pid, "VmHWM");
  if (!rss || !hwm) return "unreadable";
  return fmt::format("VmRSS {:.1f} MiB, VmHWM {:.1f} MiB", *rss, *hwm);
}

Fleet start_fleet(const FleetSettings& settings, std::size_t count,
                  const std::function<std::vector<std::string>(std::size_t)>& tags_of) {
  const auto fd_limit = raise_open_file_limit();
  if (fd_limit < count + 64) {
    fmt::print("warning: the open file limit ({}) is below the number of agents ({})\n", fd_limit, count);
  }
  Fleet fleet;
  auto start = Clock::now();
  fleet.servers = create_servers(settings.api, count, "swarm-" + run_tag(), tags_of, settings.api_parallel);
  fmt::print("fleet: registered {} servers in {:.1f} s ({:.0f}/s)\n", count, seconds_since(start),
             static_cast<double>(count) / seconds_since(start));
  for (const auto& server : fleet.servers) fleet.server_ids.insert(server.id);

  SwarmOptions options;
  options.url = settings.agent_url;
  options.ca_file = settings.api.ca_file;
  options.insecure = settings.insecure;
  options.connect_concurrency = settings.connect_concurrency;
  options.threads = settings.swarm_threads;
  for (const auto& server : fleet.servers) options.tokens.push_back(server.agent_token);
  fleet.swarm = std::make_unique<AgentSwarm>(std::move(options));
  start = Clock::now();
  fleet.swarm->start();
  const auto connected = fleet.swarm->wait_connected(
      count, std::chrono::duration_cast<std::chrono::milliseconds>(settings.connect_timeout),
      [&](const SwarmCounts& counts) {
        if (counts.agents >= 2000) {
          fmt::print("  connecting: {}/{} after {:.0f} s\n", counts.connected, counts.agents, seconds_since(start));
          std::fflush(stdout);
        }
      });
  const double took = seconds_since(start);
  if (connected < count) {
    std::string reasons;
    for (const auto& sample : fleet.swarm->failure_samples()) reasons += "\n  " + sample;
    throw std::runtime_error(
        fmt::format("only {} of {} agents connected within {} s; failures:{}", connected, count,
                    settings.connect_timeout.count(), reasons.empty() ? " none recorded" : reasons));
  }
  fmt::print("fleet: {} agents connected in {:.2f} s ({:.0f}/s, at most {} handshakes at once); controller {}\n",
             count, took, static_cast<double>(count) / took, settings.connect_concurrency,
             controller_memory(settings));
  std::fflush(stdout);
  return fleet;
}

}  // namespace tether::bench
