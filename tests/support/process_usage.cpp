#include "tests/support/process_usage.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tether::testing {

std::uint64_t resident_bytes(pid_t pid) {
  const auto path = fmt::format("/proc/{}/status", pid);
  std::ifstream status(path);
  if (!status) throw std::runtime_error(fmt::format("cannot read {}: is process {} running?", path, pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::uint64_t kib = 0;
    std::string unit;
    if (fields >> kib >> unit && unit == "kB") return kib * 1024;
    break;
  }
  throw std::runtime_error(fmt::format("no VmRSS line in {}", path));
}

double cpu_seconds(pid_t pid) {
  const auto path = fmt::format("/proc/{}/stat", pid);
  std::ifstream stat(path);
  std::string text;
  if (!stat || !std::getline(stat, text)) throw std::runtime_error(fmt::format("cannot read {}", path));
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start
  // after its last ')'. utime and stime are fields 14 and 15, in clock ticks.
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) throw std::runtime_error(fmt::format("unexpected {}: {}", path, text));
  std::istringstream fields(text.substr(name_end + 1));
  std::string skipped;
  for (int field = 3; field <= 13; ++field) fields >> skipped;
  unsigned long long user_ticks = 0, system_ticks = 0;
  if (!(fields >> user_ticks >> system_ticks)) throw std::runtime_error(fmt::format("unexpected {}: {}", path, text));
  return static_cast<double>(user_ticks + system_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

PeakResidentSampler::PeakResidentSampler(pid_t pid, std::chrono::milliseconds interval) : pid_(pid), interval_(interval) {
  sample();
  thread_ = std::thread([this] {
    while (!stopping_) {
      std::this_thread::sleep_for(interval_);
      sample();
    }
  });
}

PeakResidentSampler::~PeakResidentSampler() { stop(); }

std::uint64_t PeakResidentSampler::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  return peak_;
}

void PeakResidentSampler::sample() {
  // A process that has exited has no peak to add; the figures before it still stand.
  std::uint64_t now = 0;
  try {
    now = resident_bytes(pid_);
  } catch (const std::runtime_error&) {
    return;
  }
  if (now > peak_) peak_ = now;
}

}  // namespace tether::testing
