#pragma once
// Requests per minute per automation key, counted in a sliding 60-second window in this process.
// With several controller replicas each counts its own share (documented in the README).
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tether::auth {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // Counts the request if it fits; otherwise returns how many whole seconds until one would.
  std::optional<int> admit(const std::string& key_id, int per_minute, Clock::time_point now = Clock::now());

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> windows_;
};

}  // namespace tether::auth
