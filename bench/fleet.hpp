#pragma once
// The fleet a fan-out benchmark runs against: servers registered through the REST API, each
// with a simulated agent of one AgentSwarm connected to the controller. Shared by fanout and
// scheduler_lateness, which read the same flags for it.
#include "bench/agent_swarm.hpp"
#include "bench/bench_api.hpp"
#include "common/config.hpp"

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tether::bench {

struct FleetSettings {
  ApiSettings api;
  std::string agent_url;  // where the agents connect; the API's URL unless --agent-url says otherwise
  bool insecure = false;  // agent WebSockets over TLS do not verify the certificate
  std::size_t connect_concurrency = 200;
  int swarm_threads = 2;
  std::size_t api_parallel = 8;  // connections registering servers (and jobs) at once
  std::chrono::seconds connect_timeout{600};
  std::optional<pid_t> controller_pid;
};

// The flags every fleet benchmark takes; their names, for config::Options.
inline const std::set<std::string> fleet_flags = {"url", "admin-key", "ca-file", "insecure", "controller-pid",
                                                  "concurrency", "swarm-threads", "api-parallel",
                                                  "connect-timeout-seconds", "agent-url"};
FleetSettings read_fleet_settings(const config::Options& options);

struct Fleet {
  std::vector<CreatedServer> servers;
  std::unique_ptr<AgentSwarm> swarm;
  std::set<std::string> server_ids;
};

// Registers `count` servers tagged tags_of(i), connects an agent for each and waits until all
// are connected, printing progress and the times taken; throws when they do not all connect
// within the settings' timeout.
Fleet start_fleet(const FleetSettings& settings, std::size_t count,
                  const std::function<std::vector<std::string>(std::size_t)>& tags_of);

// "VmRSS 123.4 MiB, VmHWM 130.0 MiB" of the controller, or "n/a" without its pid.
std::string controller_memory(const FleetSettings& settings);

}  // namespace tether::bench
