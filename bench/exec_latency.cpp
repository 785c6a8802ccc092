// exec_latency: how long a CI client waits for a trivial command (`true`) run synchronously
// through the controller and an agent, one request after another over one kept-alive connection.
//
//   exec_latency --url URL --rca-key rca_...[,rca_...] --server-id UUID [--ca-file PEM]
//                [--count 1000] [--runs 3] [--warmup 20]
//
// Each flag may also come from the environment (TETHER_URL, TETHER_RCA_KEY, TETHER_SERVER_ID,
// TETHER_CA_FILE, ...): ./dev.sh bench passes the key that way, and after
// `source .tether/dev.env` the program measures the stack of ./dev.sh up with no flags at all.
#include "bench/exec_client.hpp"
#include "bench/latency_stats.hpp"
#include "common/config.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

using tether::bench::RunFigures;
using Clock = std::chrono::steady_clock;

constexpr double kGoalP50Ms = 5.0;
constexpr double kGoalP99Ms = 15.0;
constexpr const char* kCommand = "true";

RunFigures measure_run(tether::bench::ExecClient& client, long count) {
  std::vector<std::chrono::nanoseconds> latencies;
  latencies.reserve(static_cast<std::size_t>(count));
  const auto run_start = Clock::now();
  for (long i = 0; i < count; ++i) {
    const auto start = Clock::now();
    client.run(kCommand);
    latencies.push_back(Clock::now() - start);
  }
  return tether::bench::summarize_run(std::move(latencies), Clock::now() - run_start);
}

void print_row(const std::string& label, const RunFigures& figures) {
  fmt::print("{:<8} {:>9} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.1f}\n", label, figures.requests, figures.p50_ms,
             figures.p99_ms, figures.max_ms, figures.ops_per_second);
}

// "rca_a,rca_b" -> {"rca_a", "rca_b"}
std::vector<std::string> split_keys(const std::string& list) {
  std::vector<std::string> keys;
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto end = std::min(list.find(',', start), list.size());
    if (end > start) keys.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return keys;
}

int run(const tether::config::Options& options) {
  tether::bench::ExecTarget target{
      .url = options.require("url"),
      .rca_keys = split_keys(options.require("rca-key")),
      .server_id = options.require("server-id"),
      .ca_file = options.get_or("ca-file", ""),
  };
  const long count = options.get_int("count", 1000, 1, 10'000'000);
  const long runs = options.get_int("runs", 3, 1, 1000);
  const long warmup = options.get_int("warmup", 20, 0, 1'000'000);

  tether::bench::ExecClient client(target);
  // Warm-up requests open the connection and warm both processes; they are not measured.
  for (long i = 0; i < warmup; ++i) client.run(kCommand);

  fmt::print("exec latency: {} x {} sequential POST /api/automation/v1/exec of `{}`, one kept-alive connection\n",
             runs, count, kCommand);
  fmt::print("{:<8} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "run", "requests", "p50 ms", "p99 ms", "max ms", "ops/s");
  std::vector<RunFigures> figures;
  for (long r = 1; r <= runs; ++r) {
    figures.push_back(measure_run(client, count));
    print_row(std::to_string(r), figures.back());
    std::fflush(stdout);
  }
  const auto median = tether::bench::median_of(figures);
  print_row("median", median);
  const bool met = median.p50_ms <= kGoalP50Ms && median.p99_ms <= kGoalP99Ms;
  fmt::print("goal: p50 <= {:.0f} ms and p99 <= {:.0f} ms (median of runs): {}\n", kGoalP50Ms, kGoalP99Ms,
             met ? "met" : "NOT met");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const tether::config::Options options(argc, argv,
                                          {"url", "rca-key", "server-id", "ca-file", "count", "runs", "warmup"});
    return run(options);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "exec_latency: {}\n", e.what());
    fmt::print(stderr,
               "usage: exec_latency --url URL --rca-key rca_...[,rca_...] --server-id UUID [--ca-file PEM] "
               "[--count 1000] [--runs 3] [--warmup 20]\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "exec_latency: {}\n", e.what());
    return 1;
  }
}
