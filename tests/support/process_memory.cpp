#include "tests/support/process_memory.hpp"

#include <fmt/format.h>

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
