#include "controller/auth/login_limiter.hpp"

#include "controller/auth/failure_limiter.hpp"

#include <algorithm>

namespace tether::auth {
namespace {
std::string username_key(const std::string& username) { return username.substr(0, 64); }
}  // namespace

LoginLimiter::LoginLimiter() : LoginLimiter(Settings{}) {}

LoginLimiter::LoginLimiter(Settings settings) : settings_(settings) {
  settings_.max_entries = std::max<std::size_t>(settings_.max_entries, 1);
}

LoginLimiter::Entry& LoginLimiter::entry(Table& table, const std::string& key, const Rule& rule,
                                         Clock::time_point now) {
  auto it = table.find(key);
  if (it == table.end()) {
    if (table.size() >= settings_.max_entries) {
      // Forget entries whose window and lockout are over; if none, the one whose window is oldest.
      std::erase_if(table, [&](const auto& item) {
        const auto& e = item.second;
        return e.in_flight == 0 && now >= e.window_start + std::chrono::seconds(rule.window_seconds) &&
               (!e.locked_until || *e.locked_until <= now);
      });
      if (table.size() >= settings_.max_entries) {
        table.erase(std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
          return a.second.window_start < b.second.window_start;
        }));
      }
    }
    it = table.emplace(key, Entry{now, 0, std::nullopt, 0}).first;
  }
  auto& e = it->second;
  // A window or lockout that is over starts afresh (attempts in flight stay counted).
  if ((e.locked_until && *e.locked_until <= now) ||
      (!e.locked_until && now >= e.window_start + std::chrono::seconds(rule.window_seconds))) {
    e = Entry{now, 0, std::nullopt, e.in_flight};
  }
  return e;
}

std::optional<int> LoginLimiter::refusal(const Entry& e, const Rule& rule, Clock::time_point now) {
  std::optional<Clock::time_point> until = e.locked_until;
  if (!until && e.failures + e.in_flight >= rule.max_failures) {
    until = e.window_start + std::chrono::seconds(rule.window_seconds);
  }
  if (!until || *until <= now) return std::nullopt;
  return static_cast<int>(std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(*until - now).count()));
}

bool LoginLimiter::count(Entry& e, const Rule& rule, Clock::time_point now) {
  if (e.locked_until) return false;  // already locked
  if (++e.failures < rule.max_failures) return false;
  e.locked_until = now + std::chrono::seconds(rule.lockout_seconds);
  return true;
}

std::optional<int> LoginLimiter::admit(const std::string& client_ip, const std::string& username,
                                       Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& address = entry(addresses_, AuthFailureLimiter::counted_address(client_ip), settings_.per_address, now);
  auto& user = entry(usernames_, username_key(username), settings_.per_username, now);
  const auto by_address = refusal(address, settings_.per_address, now);
  const auto by_username = refusal(user, settings_.per_username, now);
  if (by_address || by_username) return std::max(by_address.value_or(0), by_username.value_or(0));
  ++address.in_flight;
  ++user.in_flight;
  return std::nullopt;
}

LoginLimiter::Failure LoginLimiter::record_failure(const std::string& client_ip, const std::string& username,
                                                   Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& address = entry(addresses_, AuthFailureLimiter::counted_address(client_ip), settings_.per_address, now);
  auto& user = entry(usernames_, username_key(username), settings_.per_username, now);
  address.in_flight = std::max(address.in_flight - 1, 0);
  user.in_flight = std::max(user.in_flight - 1, 0);
  return Failure{count(address, settings_.per_address, now), count(user, settings_.per_username, now)};
}

void LoginLimiter::record_success(const std::string& client_ip, const std::string& username) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  auto& address = entry(addresses_, AuthFailureLimiter::counted_address(client_ip), settings_.per_address, now);
  auto& user = entry(usernames_, username_key(username), settings_.per_username, now);
  address.in_flight = std::max(address.in_flight - 1, 0);
  user.in_flight = std::max(user.in_flight - 1, 0);
}

}  // namespace tether::auth
