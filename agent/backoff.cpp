#include "agent/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace tether::agent {

std::chrono::milliseconds backoff_base(const BackoffPolicy& policy, int attempt) {
  auto delay = policy.initial;
  for (int i = 0; i < attempt && delay < policy.cap; ++i) delay *= 2;
  return std::min(delay, policy.cap);
}

std::chrono::milliseconds Backoff::next(double uniform) {
  const auto base = backoff_base(policy_, attempt_);
  if (base < policy_.cap) ++attempt_;
  const double clamped = std::clamp(uniform, 0.0, 1.0);
  const double factor = 1.0 + policy_.jitter * (2.0 * clamped - 1.0);
  return std::chrono::milliseconds(static_cast<long long>(std::llround(static_cast<double>(base.count()) * factor)));
}

}  // namespace tether::agent
