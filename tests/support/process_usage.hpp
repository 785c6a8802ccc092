#pragma once
// What another process uses, from /proc: its resident set size (VmRSS), read once or sampled on
// a thread of its own to find its peak over a stretch of time, and its CPU time.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace tether::testing {

// VmRSS of `pid` in bytes; throws std::runtime_error when the process or the field is missing.
std::uint64_t resident_bytes(pid_t pid);

// User plus system CPU time `pid` has used so far, in seconds; throws std::runtime_error when the
// process is gone.
double cpu_seconds(pid_t pid);

class PeakResidentSampler {
 public:
  // Starts sampling `pid` every `interval` until stop() (or destruction).
  PeakResidentSampler(pid_t pid, std::chrono::milliseconds interval);
  ~PeakResidentSampler();
  PeakResidentSampler(const PeakResidentSampler&) = delete;
  PeakResidentSampler& operator=(const PeakResidentSampler&) = delete;

  // Stops sampling and returns the highest VmRSS seen, in bytes (at least one sample is taken).
  std::uint64_t stop();

 private:
  void sample();

  const pid_t pid_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> peak_{0};
  std::thread thread_;
};

}  // namespace tether::testing
