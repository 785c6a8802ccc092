#include "agent/controller_endpoint.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fmt/format.h>

#include <stdexcept>

namespace tether::agent {

namespace urls = boost::urls;

std::string ControllerEndpoint::display() const {
  return fmt::format("{}://{}{}", tls ? "wss" : "ws", host_header, target);
}

ControllerEndpoint parse_controller_url(std::string_view text) {
  auto parsed = urls::parse_uri(text);
  if (!parsed) throw std::invalid_argument(fmt::format("--controller '{}' is not a valid URL", text));
  const urls::url_view url = *parsed;

  ControllerEndpoint endpoint;
  if (url.scheme_id() == urls::scheme::https) {
    endpoint.tls = true;
  } else if (url.scheme_id() != urls::scheme::http) {
    throw std::invalid_argument(fmt::format("--controller must start with http:// or https://, got '{}'", text));
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    throw std::invalid_argument(fmt::format("--controller '{}' has no host", text));
  }
  if (url.has_userinfo() || url.has_query() || url.has_fragment()) {
    throw std::invalid_argument(
        fmt::format("--controller '{}' must be scheme://host[:port][/base-path] without user info, query or fragment", text));
  }

  switch (url.host_type()) {
    case urls::host_type::ipv6:
      endpoint.host = url.host_ipv6_address().to_string();
      endpoint.host_is_address = true;
      break;
    case urls::host_type::ipv4:
      endpoint.host = url.host_ipv4_address().to_string();
      endpoint.host_is_address = true;
      break;
    case urls::host_type::name:
      endpoint.host = url.host_name();
      break;
    default:
      throw std::invalid_argument(fmt::format("--controller '{}' has an unsupported host", text));
  }

  if (url.has_port()) {
    if (url.port_number() == 0) throw std::invalid_argument(fmt::format("--controller '{}' has an invalid port", text));
    endpoint.port = std::to_string(url.port_number());
  } else {
    endpoint.port = endpoint.tls ? "443" : "80";
  }
  // encoded_host() keeps the brackets of an IPv6 literal, as the Host header needs them.
  endpoint.host_header = fmt::format("{}:{}", std::string_view(url.encoded_host()), endpoint.port);

  std::string base(url.encoded_path());
  while (!base.empty() && base.back() == '/') base.pop_back();
  endpoint.target = base + "/api/agent/ws";
  return endpoint;
}

}  // namespace tether::agent
