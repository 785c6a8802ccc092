#include "controller/auth/failure_limiter.hpp"

#include "controller/auth/networks.hpp"

#include <boost/asio/ip/network_v6.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace tether::auth {

AuthFailureLimiter::AuthFailureLimiter(Settings settings) : settings_(settings) {
  settings_.threshold = std::max(settings_.threshold, 0);
  settings_.window_seconds = std::max(settings_.window_seconds, 1);
  settings_.max_addresses = std::max<std::size_t>(settings_.max_addresses, 1);
}

std::string AuthFailureLimiter::counted_address(const std::string& client_ip) {
  boost::system::error_code ec;
  const auto parsed = boost::asio::ip::make_address(client_ip, ec);
  if (ec) return client_ip.substr(0, 64);
  const auto address = normalise(parsed);
  if (address.is_v4()) return address.to_string();
  return boost::asio::ip::network_v6(address.to_v6(), 64).canonical().to_string();
}

AuthFailureLimiter::Verdict AuthFailureLimiter::record_failure(const std::string& client_ip, Clock::time_point now) {
  const auto window = std::chrono::seconds(settings_.window_seconds);
  const auto address = counted_address(client_ip);
  // The window's wall-clock start, derived from `now` so that the key follows the same clock as
  // the window itself (two windows of one address are at least a window apart).
  const auto new_window_key = [&] {
    const auto wall = std::chrono::system_clock::now() +
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(now - Clock::now());
    return fmt::format("{}@{}", address,
                       std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count());
  };

  std::lock_guard lock(mutex_);
  auto& by_address = table_.get<0>();
  auto it = by_address.find(address);
  if (it == by_address.end()) {
    auto& by_age = table_.get<1>();
    while (table_.size() >= settings_.max_addresses) by_age.pop_front();
    it = by_address.insert(Entry{address, now, new_window_key(), 0}).first;
  }
  Entry entry = *it;
  if (now >= entry.window_start + window) entry = Entry{address, now, new_window_key(), 0};
  ++entry.failures;
  by_address.replace(it, entry);
  auto& by_age = table_.get<1>();
  by_age.relocate(by_age.end(), table_.project<1>(it));

  Verdict verdict{address, entry.window_key, entry.failures, std::nullopt};
  if (entry.failures > settings_.threshold) {
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(entry.window_start + window - now).count();
    verdict.retry_after = static_cast<int>(std::clamp<long long>(seconds, 1, settings_.window_seconds));
  }
  return verdict;
}

std::size_t AuthFailureLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return table_.size();
}

}  // namespace tether::auth
