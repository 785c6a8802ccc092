#include "controller/auth/networks.hpp"

#include <boost/algorithm/string/split.hpp>
#include <boost/algorithm/string/trim.hpp>

#include <stdexcept>

namespace tether::auth {
namespace ip = boost::asio::ip;

namespace {

std::optional<ip::address> parse_address(std::string text) {
  boost::algorithm::trim(text);
  boost::system::error_code ec;
  auto address = ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return normalise(address);
}

}  // namespace

ip::address normalise(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

NetworkList NetworkList::parse(const std::vector<std::string>& entries) {
  NetworkList list;
  for (const auto& entry : entries) {
    boost::system::error_code ec;
    std::string text = entry;
    boost::algorithm::trim(text);
    if (text.find('/') == std::string::npos) {
      auto address = parse_address(text);
      if (!address) throw std::invalid_argument("'" + entry + "' is not an IP address or CIDR range");
      text += address->is_v4() ? "/32" : "/128";
    }
    if (text.find(':') == std::string::npos) {
      auto network = ip::make_network_v4(text, ec);
      if (!ec) {
        list.networks_.emplace_back(network.canonical());
        continue;
      }
    } else {
      auto network = ip::make_network_v6(text, ec);
      if (!ec) {
        list.networks_.emplace_back(network.canonical());
        continue;
      }
    }
    throw std::invalid_argument("'" + entry + "' is not an IP address or CIDR range");
  }
  return list;
}

bool NetworkList::contains(const ip::address& raw) const {
  const auto address = normalise(raw);
  for (const auto& network : networks_) {
    if (const auto* v4 = std::get_if<ip::network_v4>(&network)) {
      if (address.is_v4() && ip::network_v4(address.to_v4(), v4->prefix_length()).canonical() == *v4) return true;
    } else {
      const auto& v6 = std::get<ip::network_v6>(network);
      if (address.is_v6() && ip::network_v6(address.to_v6(), v6.prefix_length()).canonical() == v6) return true;
    }
  }
  return false;
}

std::vector<std::string> NetworkList::canonical() const {
  std::vector<std::string> out;
  for (const auto& network : networks_) {
    std::visit([&](const auto& n) { out.push_back(n.to_string()); }, network);
  }
  return out;
}

std::string client_address(const std::string& peer, const http::Request& request, const NetworkList& trusted_proxies) {
  auto peer_address = parse_address(peer);
  if (!peer_address) return peer;
  if (trusted_proxies.empty() || !trusted_proxies.contains(*peer_address)) return peer_address->to_string();
  auto header = request.find("X-Forwarded-For");
  if (header == request.end()) return peer_address->to_string();
  std::vector<std::string> hops;
  const std::string value(header->value());
  boost::algorithm::split(hops, value, [](char c) { return c == ','; });
  // Walk back from the nearest hop: the first one that is not our own proxy is the client.
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto hop = parse_address(*it);
    if (!hop) break;  // garbage in the header: trust nothing further
    if (!trusted_proxies.contains(*hop)) return hop->to_string();
  }
  return peer_address->to_string();
}

}  // namespace tether::auth
