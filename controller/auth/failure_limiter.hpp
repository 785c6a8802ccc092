#pragma once
// Failed authentications counted per client address, so that a caller guessing keys gets 429
// instead of 401 past a threshold, and so that its audit trail is one aggregated row per address
// and window instead of one row per call. Invariants: memory stays bounded whatever clients do
// (the table holds at most `max_addresses` entries; the address whose last failure is oldest is
// forgotten first), and an IPv6 caller cannot escape the count by cycling through the addresses
// of its own network (IPv6 is counted per /64). Only failures are counted: a valid key from a
// limited address is still admitted, so a shared address (NAT, an untrusted proxy) cannot be
// locked out by someone else's bad key.
#include <boost/multi_index/hashed_index.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/sequenced_index.hpp>
#include <boost/multi_index_container.hpp>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

namespace tether::auth {

class AuthFailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    int threshold = 100;       // failures per window answered 401; later ones get 429
    int window_seconds = 60;   // a window starts at an address's first failure
    std::size_t max_addresses = 65536;
  };

  struct Verdict {
    std::string address;  // as counted: "203.0.113.9", "2001:db8:1:2::/64"
    // Names this address's current window across restarts and replicas (address and the wall
    // clock at its first failure): the key of its aggregated audit row.
    std::string window_key;
    int failures = 0;                // in the window, this one included
    std::optional<int> retry_after;  // past the threshold: whole seconds until the window ends
  };

  explicit AuthFailureLimiter(Settings settings);

  Verdict record_failure(const std::string& client_ip, Clock::time_point now = Clock::now());

  // How many addresses are held (for tests of the bound).
  std::size_t tracked() const;

  // "203.0.113.9" for IPv4 (also when mapped into IPv6), the /64 for IPv6, and the text itself
  // (cut to 64 characters) for what is not an address.
  static std::string counted_address(const std::string& client_ip);

 private:
  struct Entry {
    std::string address;
    Clock::time_point window_start;
    std::string window_key;
    int failures;
  };
  using Table = boost::multi_index_container<
      Entry, boost::multi_index::indexed_by<
                 boost::multi_index::hashed_unique<boost::multi_index::member<Entry, std::string, &Entry::address>>,
                 boost::multi_index::sequenced<>>>;  // least recently failed first

  Settings settings_;
  mutable std::mutex mutex_;
  Table table_;
};

}  // namespace tether::auth
