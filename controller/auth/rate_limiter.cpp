#include "controller/auth/rate_limiter.hpp"

#include <algorithm>

namespace tether::auth {

std::optional<int> RateLimiter::admit(const std::string& key_id, int per_minute, Clock::time_point now) {
  constexpr auto window = std::chrono::seconds(60);
  std::lock_guard lock(mutex_);
  auto& requests = windows_[key_id];
  while (!requests.empty() && requests.front() <= now - window) requests.pop_front();
  if (static_cast<int>(requests.size()) < per_minute) {
    requests.push_back(now);
    return std::nullopt;
  }
  const auto wait = requests.front() + window - now;
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return static_cast<int>(std::clamp<long long>(seconds, 1, 60));
}

}  // namespace tether::auth
