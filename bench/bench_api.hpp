#pragma once
// The controller's REST API as the fleet benchmarks use it (agent_swarm, fanout,
// scheduler_lateness): register many servers, see how many are connected, make an rca_ key,
// read another process's memory figures. Every call checks its answer and throws
// std::runtime_error with the status and body when it is not the expected one.
#include "common/http_client.hpp"

#include <boost/json.hpp>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tether::config {
class Options;
}

namespace tether::bench {

// The main() of a benchmark program: reads its flags (`known`, of which `switches` take no value)
// and runs it. A bad command line prints the message and `usage` and exits 2; a failure prints
// its message and exits 1.
int run_main(int argc, char** argv, std::string_view name, std::set<std::string> known,
             std::set<std::string> switches, std::string_view usage,
             const std::function<int(const config::Options&)>& run);

struct ApiSettings {
  std::string url;        // http(s)://host:port
  std::string ca_file;    // https: the PEM to verify the controller with (empty: system roots)
  std::string admin_key;  // tak_... with the admin role
};

http::Client make_client(const ApiSettings& api);

// Sends a request with the admin key; throws unless the answer has `expected` status. Returns the
// body parsed as JSON (null for an empty body).
boost::json::value call(http::Client& client, const ApiSettings& api, std::string_view method,
                        const std::string& target, const boost::json::value* body, unsigned expected);

// Runs work(i, worker) for every i in [0, count) on `parallel` threads, worker being the thread's
// number in [0, parallel) (for a client per thread); the first exception stops the others and is
// rethrown.
void for_each_parallel(std::size_t count, std::size_t parallel,
                       const std::function<void(std::size_t item, std::size_t worker)>& work);

// for_each_parallel with an API client per thread: work(i, client).
void for_each_with_client(const ApiSettings& api, std::size_t count, std::size_t parallel,
                          const std::function<void(std::size_t item, http::Client& client)>& work);

struct CreatedServer {
  std::string id;
  std::string agent_token;
};

// Registers `count` servers with POST /api/servers, named "<prefix>-<i>" and tagged tags_of(i),
// over `parallel` connections. `progress(done)` is called now and then from one thread.
std::vector<CreatedServer> create_servers(const ApiSettings& api, std::size_t count, const std::string& prefix,
                                          const std::function<std::vector<std::string>(std::size_t)>& tags_of,
                                          std::size_t parallel,
                                          const std::function<void(std::size_t)>& progress = {});

// What GET /api/servers says about a set of servers.
struct ServerTally {
  std::size_t listed = 0;     // of `ids`, how many the list holds
  std::size_t connected = 0;  // ... with "connected": true
  std::size_t active = 0;     // ... with "status": "active"
  std::size_t others_with_tag = 0;  // servers outside `ids`, not decommissioned, carrying `tag`
};
ServerTally tally_servers(const ApiSettings& api, const std::set<std::string>& ids, const std::string& tag = {});

// POST /api/automation-keys: an rca_ key for exec on one server; returns the secret.
std::string create_exec_key(const ApiSettings& api, const std::string& name, const std::string& server_id);

// A field of /proc/<pid>/status such as "VmRSS" or "VmHWM", in MiB; nullopt when unreadable.
std::optional<double> proc_status_mib(pid_t pid, std::string_view field);

// A short random word, so that server and job names of one benchmark run are told apart.
std::string run_tag();

}  // namespace tether::bench
