#pragma once
// Failed logins limited per client address (seed 004: 5 per 60 s, then a 300 s lockout) and per
// username (so that many addresses cannot guess one password together: 10 per 300 s, then a
// 300 s lockout). A locked address or username is refused before its password is checked, so a
// guesser costs no hashing. Memory stays bounded (at most `max_entries` of each kind are kept;
// when full, the stalest entries go). A successful login does not clear a count, so that an
// account of one's own cannot be used to reset it. IPv6 addresses are counted per /64, as AuthFailureLimiter does.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tether::auth {

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Rule {
    int max_failures;
    int window_seconds;
    int lockout_seconds;
  };
  struct Settings {
    Rule per_address{5, 60, 300};
    Rule per_username{10, 300, 300};
    std::size_t max_entries = 65536;
  };

  LoginLimiter();
  explicit LoginLimiter(Settings settings);

  // Admits a login attempt before its password is checked: nullopt when it may go on, else whole
  // seconds until one may be tried again (the address or username is locked, or enough attempts
  // are already being checked to lock it). Every admitted attempt ends with record_failure or
  // record_success.
  std::optional<int> admit(const std::string& client_ip, const std::string& username,
                           Clock::time_point now = Clock::now());

  struct Failure {
    bool address_locked = false;   // this failure locked the address
    bool username_locked = false;  // this failure locked the username
  };
  Failure record_failure(const std::string& client_ip, const std::string& username,
                         Clock::time_point now = Clock::now());
  // Ends an admitted attempt that succeeded (it is not counted).
  void record_success(const std::string& client_ip, const std::string& username);

 private:
  struct Entry {
    Clock::time_point window_start;
    int failures = 0;
    std::optional<Clock::time_point> locked_until;
    int in_flight = 0;  // admitted attempts not yet ended
  };
  using Table = std::unordered_map<std::string, Entry>;

  Entry& entry(Table& table, const std::string& key, const Rule& rule, Clock::time_point now);
  // Seconds until `key` may try again, counting the attempts in flight as failures.
  static std::optional<int> refusal(const Entry& entry, const Rule& rule, Clock::time_point now);
  // Counts a failure; true when it locks the key.
  static bool count(Entry& entry, const Rule& rule, Clock::time_point now);

  Settings settings_;
  std::mutex mutex_;
  Table addresses_, usernames_;
};

}  // namespace tether::auth
