#pragma once
// CIDR lists (key IP allowlists, trusted proxies) and the client address they are checked against.
#include "controller/http/types.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tether::auth {

class NetworkList {
 public:
  NetworkList() = default;
  // Accepts "10.0.0.0/8", "2001:db8::/32" and bare addresses; throws std::invalid_argument naming
  // the entry that is neither.
  static NetworkList parse(const std::vector<std::string>& entries);
  bool empty() const { return networks_.empty(); }
  bool contains(const boost::asio::ip::address& address) const;
  // The canonical text of each entry ("10.0.0.0/8").
  std::vector<std::string> canonical() const;

 private:
  std::vector<std::variant<boost::asio::ip::network_v4, boost::asio::ip::network_v6>> networks_;
};

// IPv4 clients reaching an IPv6 socket appear as ::ffff:a.b.c.d; compare them as IPv4.
boost::asio::ip::address normalise(const boost::asio::ip::address& address);

// The caller's address: the socket peer, or, when the peer is a trusted proxy, the nearest
// X-Forwarded-For entry that is not itself a trusted proxy.
std::string client_address(const std::string& peer, const http::Request& request, const NetworkList& trusted_proxies);

}  // namespace tether::auth
