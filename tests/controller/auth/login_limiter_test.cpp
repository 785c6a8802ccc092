// LoginLimiter: seed 004's 5 failures per 60 s per address then 300 s locked, the per-username
// limit across addresses, attempts in flight counted, and windows that end.
#include "controller/auth/login_limiter.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;

TEST_CASE("five failures from one address lock it for 300 s, whatever the username", "[auth][login]") {
  auth::LoginLimiter limiter;
  const auto t = auth::LoginLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) {
    INFO("attempt " << i + 1);
    REQUIRE_FALSE(limiter.admit("203.0.113.5", "user" + std::to_string(i), t + std::chrono::seconds(i)));
    const auto failure = limiter.record_failure("203.0.113.5", "user" + std::to_string(i), t + std::chrono::seconds(i));
    CHECK(failure.address_locked == (i == 4));
    CHECK_FALSE(failure.username_locked);
  }
  CHECK(limiter.admit("203.0.113.5", "someone", t + 4s) == 300);
  CHECK(limiter.admit("203.0.113.5", "someone", t + 104s) == 200);
  CHECK_FALSE(limiter.admit("203.0.113.6", "someone", t + 5s));  // another address
  limiter.record_success("203.0.113.6", "someone");
  CHECK_FALSE(limiter.admit("203.0.113.5", "someone", t + 305s));  // the lockout ended
}

TEST_CASE("failures spread over the 60 s window do not lock an address", "[auth][login]") {
  auth::LoginLimiter limiter;
  const auto t = auth::LoginLimiter::Clock::now();
  for (int i = 0; i < 8; ++i) {
    const auto at = t + std::chrono::seconds(i * 20);  // a new window every third failure
    REQUIRE_FALSE(limiter.admit("198.51.100.1", "u", at));
    CHECK_FALSE(limiter.record_failure("198.51.100.1", "u", at).address_locked);
  }
}

TEST_CASE("a username guessed from many addresses is locked after 10 failures", "[auth][login]") {
  auth::LoginLimiter limiter;
  const auto t = auth::LoginLimiter::Clock::now();
  for (int i = 0; i < 10; ++i) {
    const auto address = "192.0.2." + std::to_string(i + 1);
    REQUIRE_FALSE(limiter.admit(address, "alice", t));
    CHECK(limiter.record_failure(address, "alice", t).username_locked == (i == 9));
  }
  CHECK(limiter.admit("192.0.2.200", "alice", t + 1s) == 299);
  CHECK_FALSE(limiter.admit("192.0.2.200", "bob", t + 1s));
}

TEST_CASE("attempts being checked count: a burst cannot get more than five past the limit", "[auth][login]") {
  auth::LoginLimiter limiter;
  const auto t = auth::LoginLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) REQUIRE_FALSE(limiter.admit("203.0.113.77", "x", t));
  CHECK(limiter.admit("203.0.113.77", "x", t) == 60);  // until the window ends
  for (int i = 0; i < 5; ++i) limiter.record_success("203.0.113.77", "x");
  CHECK_FALSE(limiter.admit("203.0.113.77", "x", t + 1s));
}
