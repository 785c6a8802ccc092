#include "agent/backoff.hpp"

#include <catch2/catch.hpp>

using tether::agent::Backoff;
using tether::agent::backoff_base;
using tether::agent::BackoffPolicy;
using namespace std::chrono_literals;

TEST_CASE("backoff base delay starts at 0.5 s and doubles up to the 30 s cap", "[agent][backoff]") {
  const BackoffPolicy policy;
  CHECK(backoff_base(policy, 0) == 500ms);
  CHECK(backoff_base(policy, 1) == 1000ms);
  CHECK(backoff_base(policy, 2) == 2000ms);
  CHECK(backoff_base(policy, 5) == 16000ms);
  CHECK(backoff_base(policy, 6) == 30000ms);
  CHECK(backoff_base(policy, 60) == 30000ms);
  CHECK(backoff_base(policy, 100000) == 30000ms);
}

TEST_CASE("backoff delays without jitter follow the base sequence and stay at the cap", "[agent][backoff]") {
  Backoff backoff;
  const std::chrono::milliseconds expected[] = {500ms, 1000ms, 2000ms, 4000ms, 8000ms, 16000ms, 30000ms, 30000ms, 30000ms};
  for (auto delay : expected) CHECK(backoff.next(0.5) == delay);
}

TEST_CASE("backoff jitter stays within plus or minus 25 percent of the base", "[agent][backoff]") {
  Backoff low;
  Backoff high;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const auto base = backoff_base(BackoffPolicy{}, attempt);
    const auto shortest = low.next(0.0);
    const auto longest = high.next(1.0);
    CHECK(shortest == std::chrono::milliseconds(base.count() * 3 / 4));
    CHECK(longest == std::chrono::milliseconds(base.count() * 5 / 4));
  }
}

TEST_CASE("backoff jitter draws outside [0, 1] are clamped, so the bounds always hold", "[agent][backoff]") {
  Backoff backoff;
  CHECK(backoff.next(-3.0) == 375ms);
  CHECK(backoff.next(7.0) == 1250ms);
}

TEST_CASE("backoff jitter spreads delays between the bounds", "[agent][backoff]") {
  Backoff backoff;
  backoff.next(0.5);
  backoff.next(0.5);
  // Third attempt: base 2 s, so draws map linearly onto [1.5 s, 2.5 s].
  Backoff a = backoff, b = backoff, c = backoff;
  CHECK(a.next(0.25) == 1750ms);
  CHECK(b.next(0.5) == 2000ms);
  CHECK(c.next(0.75) == 2250ms);
}

TEST_CASE("backoff reset after a welcome starts again from 0.5 s", "[agent][backoff]") {
  Backoff backoff;
  for (int i = 0; i < 10; ++i) backoff.next(0.5);
  CHECK(backoff.next(0.5) == 30000ms);
  backoff.reset();
  CHECK(backoff.attempts() == 0);
  CHECK(backoff.next(0.5) == 500ms);
  CHECK(backoff.next(0.5) == 1000ms);
}
