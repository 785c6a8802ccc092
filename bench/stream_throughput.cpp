// stream_throughput: how fast a command's output reaches a live reader, and what it costs the
// controller's memory. A command on the agent writes 256 MiB to stdout as fast as it can; one
// reader follows GET /api/automation/v1/operations/{id}/stream from the first byte to the end.
//
//   stream_throughput --url URL --rca-key rca_...[,rca_...] --server-id UUID [--controller-pid PID]
//                     [--runs 3] [--bytes 268435456] [--timeout-seconds 900]
//
// The agent must run on this machine: the command waits for a "go" file in a directory the
// benchmark creates, so that the stream is open before the first byte is written and the clock
// starts with the output. The controller must answer a long exec with "running" (start it with
// --sync-wait-cap-seconds 1, as ./dev.sh bench does). Flags may also come from TETHER_* variables.
#include "common/config.hpp"
#include "common/http_client.hpp"
#include "tests/support/process_usage.hpp"
#include "tests/support/sse_client.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using tether::testing::SseClient;
using tether::testing::SseEvent;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGoalMiBPerSecond = 200;
constexpr double kGoalRssGrowthMiB = 64;
// The command's own limit: generous, since a slow machine must fail by our timeout, not its.
constexpr int kCommandTimeoutSeconds = 600;
// No event for this long means the stream is stuck.
constexpr auto kEventTimeout = std::chrono::seconds(60);

struct Settings {
  tether::http::ClientOptions client;
  std::string rca_key;
  std::string server_id;
  std::optional<pid_t> controller_pid;
  long runs = 3;
  long bytes = 0;
  Clock::time_point deadline;
};

struct RunFigures {
  double seconds = 0;
  double mib_per_second = 0;
  double reader_cpu_percent = 0;  // of one core, over `seconds`
  std::optional<double> controller_cpu_percent;
  std::optional<double> baseline_rss_mib;
  std::optional<double> peak_rss_mib;
  std::optional<double> rss_growth_mib() const {
    if (!baseline_rss_mib || !peak_rss_mib) return std::nullopt;
    return *peak_rss_mib - *baseline_rss_mib;
  }
};

// A directory of this run's own for the go file, removed afterwards.
class GoDirectory {
 public:
  GoDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tether-stream-bench.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~GoDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  GoDirectory(const GoDirectory&) = delete;
  GoDirectory& operator=(const GoDirectory&) = delete;

  std::filesystem::path go_file() const { return path_ / "go"; }

  void create_go_file() const {
    std::ofstream(go_file()).put('\n');
    if (!std::filesystem::exists(go_file())) throw std::runtime_error("cannot create " + go_file().string());
  }

 private:
  std::filesystem::path path_;
};

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Waits (at most a minute) for the go file, then writes `bytes` of 100-byte lines of zeros. NUL
// bytes, as in `head -c N /dev/zero`, would travel JSON-escaped as \u0000, six bytes each, so
// printable bytes are the fair measure of what a stream carries.
std::string command_for(const GoDirectory& directory, long bytes) {
  return fmt::format(
      "i=0; while [ ! -e {go} ]; do i=$((i+1)); if [ $i -gt 1200 ]; then echo 'no go file' >&2; exit 3; fi; "
      "sleep 0.05; done; yes \"$(printf '%099d' 0)\" | head -c {bytes}",
      fmt::arg("go", shell_quote(directory.go_file().string())), fmt::arg("bytes", bytes));
}

boost::json::object parse_object(const std::string& text, const char* what) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) throw std::runtime_error(fmt::format("{} is not a JSON object: {}", what, text));
  return std::move(value.as_object());
}

const boost::json::value& field(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (value == nullptr) throw std::runtime_error(fmt::format("no '{}' in {}", name, boost::json::serialize(object)));
  return *value;
}

bool is_string(const boost::json::value& value, std::string_view text) {
  return value.is_string() && value.get_string() == text;
}

std::string start_command(const Settings& settings, const std::string& command) {
  tether::http::Client client(settings.client);
  const boost::json::object body{
      {"server_id", settings.server_id}, {"command", command}, {"timeout_seconds", kCommandTimeoutSeconds}};
  const auto response = client.post("/api/automation/v1/exec", boost::json::serialize(body),
                                    {tether::http::bearer(settings.rca_key)});
  if (response.status != 200) {
    throw std::runtime_error(fmt::format("exec answered HTTP {}: {}", response.status, response.body));
  }
  const auto answer = parse_object(response.body, "the exec answer");
  if (!is_string(field(answer, "status"), "running")) {
    throw std::runtime_error("exec did not answer \"running\" (is the controller's --sync-wait-cap-seconds 1?): " +
                             response.body);
  }
  const auto& operation_id = field(answer, "operation_id");
  if (!operation_id.is_string()) throw std::runtime_error("exec answered no operation_id: " + response.body);
  return std::string(operation_id.get_string());
}

// Best effort after a failed run, so that its command does not go on writing.
void cancel_quietly(const Settings& settings, const std::string& operation_id) {
  try {
    tether::http::Client client(settings.client);
    const auto response = client.post("/api/automation/v1/operations/" + operation_id + "/cancel", "",
                                      {tether::http::bearer(settings.rca_key)});
    fmt::print(stderr, "cancel of operation {}: HTTP {}\n", operation_id, response.status);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cancel of operation {} failed: {}\n", operation_id, e.what());
  }
}

std::chrono::milliseconds time_left(const Settings& settings) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(settings.deadline - Clock::now());
  if (left <= std::chrono::milliseconds::zero()) throw std::runtime_error("the benchmark's overall timeout passed");
  return std::min<std::chrono::milliseconds>(left, kEventTimeout);
}

// Reads the stream to its end event, checking every event on the way, and returns the stdout
// bytes received.
std::uint64_t read_to_end(SseClient& stream, const Settings& settings) {
  std::int64_t expected_seq = 1;
  std::uint64_t stdout_bytes = 0;
  boost::json::parser parser;
  while (true) {
    const auto event = stream.next(time_left(settings));
    if (!event) throw std::runtime_error(fmt::format("the stream closed before its end event (seq {})", expected_seq));
    if (event->event == "output") {
      parser.reset();
      parser.write(event->data);
      const auto chunk = parser.release();
      if (!chunk.is_object()) throw std::runtime_error("an output event's data is not a JSON object: " + event->data);
      const auto& object = chunk.get_object();
      const auto seq = field(object, "seq").to_number<std::int64_t>();
      if (seq != expected_seq) throw std::runtime_error(fmt::format("output seq {} where {} was due", seq, expected_seq));
      if (event->id != std::to_string(seq)) throw std::runtime_error(fmt::format("event id {} for seq {}", event->id, seq));
      ++expected_seq;
      const auto& data = field(object, "data");
      if (!data.is_string()) throw std::runtime_error("an output event without string data: " + event->data);
      if (!is_string(field(object, "stream"), "stdout")) {
        throw std::runtime_error(fmt::format("output on {}: {}", boost::json::serialize(field(object, "stream")),
                                             std::string_view(data.get_string()).substr(0, 200)));
      }
      stdout_bytes += data.get_string().size();
    } else if (event->event == "gap") {
      throw std::runtime_error("a gap event reached a reader connected from the start: " + event->data);
    } else if (event->event == "end") {
      const auto end = parse_object(event->data, "the end event");
      const auto* result = field(end, "result").if_object();
      const auto* exit_code = result ? result->if_contains("exit_code") : nullptr;
      if (!is_string(field(end, "status"), "completed") || exit_code == nullptr || !exit_code->is_int64() ||
          exit_code->get_int64() != 0) {
        throw std::runtime_error("the operation did not complete with exit code 0: " + event->data);
      }
      if (stream.next(time_left(settings))) throw std::runtime_error("an event followed the end event");
      return stdout_bytes;
    } else {
      throw std::runtime_error(fmt::format("unexpected event '{}': {}", event->event, event->data));
    }
  }
}

RunFigures measure_run(const Settings& settings) {
  GoDirectory directory;
  const auto operation_id = start_command(settings, command_for(directory, settings.bytes));
  try {
    tether::testing::SseRequest request;
    request.host = settings.client.host;
    request.port = static_cast<unsigned short>(std::stoi(settings.client.port));
    request.target = "/api/automation/v1/operations/" + operation_id + "/stream";
    request.headers = {tether::http::bearer(settings.rca_key)};
    SseClient stream(request);
    if (stream.status() != 200) {
      throw std::runtime_error(fmt::format("the stream answered HTTP {}: {}", stream.status(), stream.error_body()));
    }

    RunFigures figures;
    std::optional<tether::testing::PeakResidentSampler> sampler;
    if (settings.controller_pid) {
      figures.baseline_rss_mib = static_cast<double>(tether::testing::resident_bytes(*settings.controller_pid)) / kMiB;
      sampler.emplace(*settings.controller_pid, std::chrono::milliseconds(10));
    }
    const auto reader_cpu_before = tether::testing::cpu_seconds(getpid());
    const auto controller_cpu_before =
        settings.controller_pid ? tether::testing::cpu_seconds(*settings.controller_pid) : 0.0;
    const auto start = Clock::now();
    directory.create_go_file();
    const auto stdout_bytes = read_to_end(stream, settings);
    const std::chrono::duration<double> elapsed = Clock::now() - start;
    if (sampler) figures.peak_rss_mib = static_cast<double>(sampler->stop()) / kMiB;
    figures.reader_cpu_percent = 100 * (tether::testing::cpu_seconds(getpid()) - reader_cpu_before) / elapsed.count();
    if (settings.controller_pid) {
      figures.controller_cpu_percent =
          100 * (tether::testing::cpu_seconds(*settings.controller_pid) - controller_cpu_before) / elapsed.count();
    }

    if (stdout_bytes != static_cast<std::uint64_t>(settings.bytes)) {
      throw std::runtime_error(fmt::format("{} stdout bytes arrived, not {}", stdout_bytes, settings.bytes));
    }
    figures.seconds = elapsed.count();
    figures.mib_per_second = static_cast<double>(stdout_bytes) / kMiB / figures.seconds;
    return figures;
  } catch (...) {
    cancel_quietly(settings, operation_id);
    throw;
  }
}

std::string mib(const std::optional<double>& value) { return value ? fmt::format("{:.1f}", *value) : "n/a"; }

std::string percent(const std::optional<double>& value) { return value ? fmt::format("{:.0f}%", *value) : "n/a"; }

void print_row(const std::string& label, const RunFigures& figures) {
  fmt::print("{:<6} {:>8.2f} {:>8.1f} {:>11} {:>11} {:>13} {:>13} {:>11}\n", label, figures.seconds,
             figures.mib_per_second, percent(figures.reader_cpu_percent), percent(figures.controller_cpu_percent),
             mib(figures.baseline_rss_mib), mib(figures.peak_rss_mib), mib(figures.rss_growth_mib()));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

int run(const tether::config::Options& options) {
  Settings settings;
  const auto url = options.require("url");
  settings.client = tether::http::ClientOptions::from_url(url);
  if (settings.client.tls) throw std::invalid_argument("the stream reader speaks plain HTTP only; --url must be http://");
  // Each run makes two requests, far below any key's rate limit: the first key is enough.
  const auto keys = options.require("rca-key");
  settings.rca_key = keys.substr(0, keys.find(','));
  settings.server_id = options.require("server-id");
  if (options.get("controller-pid")) {
    settings.controller_pid = static_cast<pid_t>(options.get_int("controller-pid", 0, 1, 1L << 30));
  }
  settings.runs = options.get_int("runs", 3, 1, 100);
  settings.bytes = options.get_int("bytes", 256L * 1024 * 1024, 1, 1L << 40);
  const auto timeout = std::chrono::seconds(options.get_int("timeout-seconds", 900, 1, 86400));
  settings.deadline = Clock::now() + timeout;

  fmt::print("stream throughput: {} x {} bytes of stdout through one agent to one SSE reader ({})\n", settings.runs,
             settings.bytes, settings.controller_pid ? fmt::format("controller pid {}", *settings.controller_pid)
                                                     : std::string("controller RSS not sampled: no --controller-pid"));
  // CPU is the share of one core over the run (the machine's cores are shared by everything).
  fmt::print("{:<6} {:>8} {:>8} {:>11} {:>11} {:>13} {:>13} {:>11}\n", "run", "seconds", "MiB/s", "reader CPU",
             "ctrl CPU", "RSS base MiB", "RSS peak MiB", "RSS growth");
  std::fflush(stdout);
  std::vector<double> rates;
  std::optional<double> max_growth, first_baseline, overall_peak;
  for (long r = 1; r <= settings.runs; ++r) {
    const auto figures = measure_run(settings);
    print_row(std::to_string(r), figures);
    std::fflush(stdout);
    rates.push_back(figures.mib_per_second);
    if (const auto growth = figures.rss_growth_mib()) max_growth = std::max(max_growth.value_or(*growth), *growth);
    if (!first_baseline) first_baseline = figures.baseline_rss_mib;
    if (figures.peak_rss_mib) overall_peak = std::max(overall_peak.value_or(0), *figures.peak_rss_mib);
  }
  const double median_rate = median(rates);
  fmt::print("median MiB/s {:.1f}; largest controller RSS growth within a run {} MiB\n", median_rate, mib(max_growth));
  if (first_baseline && overall_peak) {
    // Memory the allocator keeps for reuse after a run shows as a higher baseline for the next.
    fmt::print("controller RSS over all runs: {:.1f} MiB before the first, {:.1f} MiB at its peak (+{:.1f} MiB)\n",
               *first_baseline, *overall_peak, *overall_peak - *first_baseline);
  }
  const bool rate_met = median_rate >= kGoalMiBPerSecond;
  const bool rss_met = max_growth && *max_growth < kGoalRssGrowthMiB;
  fmt::print("goal: >= {:.0f} MiB/s (median of runs) and controller RSS growth within a run < {:.0f} MiB: {}\n", kGoalMiBPerSecond,
             kGoalRssGrowthMiB,
             !max_growth ? (rate_met ? "throughput met, RSS not measured" : "NOT met (RSS not measured)")
             : rate_met && rss_met ? "met"
                                   : "NOT met");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const tether::config::Options options(
        argc, argv, {"url", "rca-key", "server-id", "controller-pid", "runs", "bytes", "timeout-seconds"});
    return run(options);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "stream_throughput: {}\n", e.what());
    fmt::print(stderr,
               "usage: stream_throughput --url http://HOST:PORT --rca-key rca_... --server-id UUID "
               "[--controller-pid PID] [--runs 3] [--bytes 268435456] [--timeout-seconds 900]\n");
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "stream_throughput: {}\n", e.what());
    return 1;
  }
}
