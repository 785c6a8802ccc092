// AuthFailureLimiter: failures per client address, 429 past the threshold until the window ends,
// one window key per address and window, IPv6 counted per /64, and a bounded table.
#include "controller/auth/failure_limiter.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether;
using namespace std::chrono_literals;

TEST_CASE("an address gets `threshold` failures answered 401, then a retry time until its window ends",
          "[auth][failures]") {
  auth::AuthFailureLimiter limiter({3, 60});
  const auto start = auth::AuthFailureLimiter::Clock::now();
  std::set<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    const auto verdict = limiter.record_failure("203.0.113.9", start + std::chrono::seconds(i));
    CHECK(verdict.failures == i + 1);
    CHECK_FALSE(verdict.retry_after);
    keys.insert(verdict.window_key);
  }
  const auto limited = limiter.record_failure("203.0.113.9", start + 10s);
  REQUIRE(limited.retry_after);
  CHECK(*limited.retry_after == 50);  // the window started at the first failure
  CHECK(limited.failures == 4);
  keys.insert(limited.window_key);
  CHECK(keys.size() == 1);  // one aggregated audit row for the whole window

  INFO("another address is counted on its own");
  CHECK_FALSE(limiter.record_failure("203.0.113.10", start + 10s).retry_after);
}

TEST_CASE("after its window an address starts again, under a new window key", "[auth][failures]") {
  auth::AuthFailureLimiter limiter({1, 60});
  const auto start = auth::AuthFailureLimiter::Clock::now();
  const auto first = limiter.record_failure("198.51.100.1", start);
  CHECK(limiter.record_failure("198.51.100.1", start + 59s).retry_after);
  const auto later = limiter.record_failure("198.51.100.1", start + 60s);
  CHECK_FALSE(later.retry_after);
  CHECK(later.failures == 1);
  CHECK(later.window_key != first.window_key);
}

TEST_CASE("IPv6 callers are counted per /64 and IPv4-mapped addresses as IPv4", "[auth][failures]") {
  CHECK(auth::AuthFailureLimiter::counted_address("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
  CHECK(auth::AuthFailureLimiter::counted_address("::ffff:192.0.2.7") == "192.0.2.7");
  CHECK(auth::AuthFailureLimiter::counted_address("192.0.2.7") == "192.0.2.7");

  auth::AuthFailureLimiter limiter({2, 60});
  const auto now = auth::AuthFailureLimiter::Clock::now();
  limiter.record_failure("2001:db8:1:2::1", now);
  limiter.record_failure("2001:db8:1:2::2", now);
  CHECK(limiter.record_failure("2001:db8:1:2:ffff::3", now).retry_after);
  CHECK_FALSE(limiter.record_failure("2001:db8:1:3::1", now).retry_after);
}

TEST_CASE("the table stays bounded: past its size the address whose last failure is oldest is forgotten",
          "[auth][failures]") {
  auth::AuthFailureLimiter limiter({1, 60, 100});
  const auto now = auth::AuthFailureLimiter::Clock::now();
  limiter.record_failure("10.0.0.1", now);
  for (int i = 0; i < 1000; ++i) {
    limiter.record_failure("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), now);
    // 10.0.0.1 fails again now and then: it is the most recent, so it is never the one forgotten.
    if (i % 50 == 0) limiter.record_failure("10.0.0.1", now);
    REQUIRE(limiter.tracked() <= 100);
  }
  CHECK(limiter.record_failure("10.0.0.1", now).retry_after);
  INFO("an address forgotten early starts again");
  CHECK_FALSE(limiter.record_failure("10.1.0.0", now).retry_after);
}
