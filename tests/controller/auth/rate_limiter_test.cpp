#include "controller/auth/rate_limiter.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

TEST_CASE("a key gets its requests per minute, then a retry time", "[auth][rate]") {
  auth::RateLimiter limiter;
  const auto start = auth::RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limiter.admit("k", 5, start + std::chrono::seconds(i)));
  const auto retry = limiter.admit("k", 5, start + 10s);
  REQUIRE(retry);
  CHECK(*retry == 50);  // the oldest request leaves the window 60 s after it came
  CHECK_FALSE(limiter.admit("other", 5, start + 10s));
}

TEST_CASE("the window slides: old requests stop counting after a minute", "[auth][rate]") {
  auth::RateLimiter limiter;
  const auto start = auth::RateLimiter::Clock::now();
  CHECK_FALSE(limiter.admit("k", 1, start));
  CHECK(limiter.admit("k", 1, start + 59s));
  CHECK_FALSE(limiter.admit("k", 1, start + 60s));
}

TEST_CASE("refused requests do not count against the key", "[auth][rate]") {
  auth::RateLimiter limiter;
  const auto start = auth::RateLimiter::Clock::now();
  CHECK_FALSE(limiter.admit("k", 1, start));
  for (int i = 0; i < 10; ++i) CHECK(limiter.admit("k", 1, start + 1s));
  CHECK_FALSE(limiter.admit("k", 1, start + 61s));
}
