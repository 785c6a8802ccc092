#pragma once
// A fleet of simulated agents in one process: N WebSockets to one controller, each speaking the
// real agent protocol (proto/PROTOCOL.md) with its own server token. Each agent says hello,
// heartbeats at the interval its welcome gives, and answers every dispatch at once with
// `accepted`, `started`, optionally one small output frame, and `finished` (completed, exit 0),
// without running anything. It is the fleet that benchmarks of fan-out and scheduling need,
// where thousands of real agents would not fit on one machine.
//
// One io_context on one or two threads; one object per connection owning its socket and
// buffers (Beast's example style), on a strand of its own. Connections are opened with bounded
// concurrency: at most `connect_concurrency` between the TCP connect and the welcome.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tether::bench {

namespace detail {
class SwarmCore;
}

struct SwarmOptions {
  std::string url;                  // http(s)://host:port of the controller
  std::vector<std::string> tokens;  // one agent per server token (tat_...)
  std::string ca_file;              // https: verify the controller's certificate against this PEM
  bool insecure = false;            // https: do not verify the certificate at all
  std::size_t connect_concurrency = 200;
  int threads = 2;
  // One output frame per dispatch ("swarm\n" on stdout, seq 1) before `finished`.
  bool send_output = true;
  // How long a dispatched operation "runs" before `finished`; 0 answers at once. A `cancel`
  // that comes meanwhile ends it as `canceled`.
  std::chrono::milliseconds finish_delay{0};
  // After a lost connection, connect again (1 s doubling up to 30 s); the hello lists what the
  // controller has not acknowledged, as a real agent's journal would.
  bool reconnect = true;
};

struct SwarmCounts {
  std::size_t agents = 0;
  std::size_t connected = 0;       // welcome received, socket open
  std::size_t ever_connected = 0;  // agents that got at least one welcome
  std::uint64_t connect_failures = 0;  // attempts that ended before a welcome
  std::uint64_t disconnects = 0;       // connections lost after their welcome
  std::uint64_t dispatches = 0;
  std::uint64_t finished_acks = 0;
  std::uint64_t cancels = 0;
  std::uint64_t heartbeats = 0;
};

// One dispatch as the swarm saw it (steady clock of this process).
struct DispatchRecord {
  std::string operation_id;
  std::size_t agent = 0;  // index into SwarmOptions::tokens
  std::chrono::steady_clock::time_point dispatched;
  std::optional<std::chrono::steady_clock::time_point> finished_acked;  // result stored by the controller
};

class AgentSwarm {
 public:
  explicit AgentSwarm(SwarmOptions options);
  ~AgentSwarm();  // stops
  AgentSwarm(const AgentSwarm&) = delete;
  AgentSwarm& operator=(const AgentSwarm&) = delete;

  // Resolves the controller's address and starts connecting every agent; returns at once.
  // Throws std::invalid_argument for a bad URL and std::runtime_error when it does not resolve.
  void start();
  // Waits until `want` agents are connected, or `timeout` passes; calls `progress` about once
  // a second meanwhile. Returns the number connected.
  std::size_t wait_connected(std::size_t want, std::chrono::milliseconds timeout,
                             const std::function<void(const SwarmCounts&)>& progress = {});
  // Waits until `count` finished_acks have been received since the last clear_records().
  bool wait_finished_acks(std::size_t count, std::chrono::milliseconds timeout);
  SwarmCounts counts() const;
  // The first few distinct reasons connections failed or were lost, for diagnostics.
  std::vector<std::string> failure_samples() const;

  // Dispatches seen since the last clear_records(), in the order they came.
  std::vector<DispatchRecord> records() const;
  void clear_records();

  // Drops every connection and joins the threads.
  void stop();

 private:
  std::shared_ptr<detail::SwarmCore> impl_;
};

// Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the new soft limit.
std::uint64_t raise_open_file_limit();

}  // namespace tether::bench
