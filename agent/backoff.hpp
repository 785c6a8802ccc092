#pragma once
// Reconnect delays: capped exponential backoff with jitter (PROTOCOL.md rule 6).
// Pure: the caller supplies the random draw, so the arithmetic is testable without a clock.
#include <chrono>

namespace tether::agent {

struct BackoffPolicy {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds cap{30'000};
  double jitter = 0.25;  // the delay is scaled by a factor drawn from [1 - jitter, 1 + jitter]
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}

  // The delay before the next attempt; each call doubles the base until it reaches the cap.
  // `uniform` is a random draw from [0, 1]; 0.5 gives the unjittered base.
  std::chrono::milliseconds next(double uniform);
  // Called once a connection has been welcomed: the next failure starts from `initial` again.
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  int attempt_ = 0;
};

// The unjittered delay for the n-th consecutive failure (0-based): initial * 2^n, at most cap.
std::chrono::milliseconds backoff_base(const BackoffPolicy& policy, int attempt);

}  // namespace tether::agent
