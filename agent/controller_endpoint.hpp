#pragma once
// Where the agent dials: the --controller URL (http:// or https://) turned into the WebSocket
// endpoint /api/agent/ws on the same host and port.
#include <string>
#include <string_view>

namespace tether::agent {

struct ControllerEndpoint {
  bool tls = false;          // https:// -> wss:// with certificate verification
  std::string host;          // for DNS and certificate checks: a name, an IPv4 or a bare IPv6 address
  std::string port;          // numeric, defaulted from the scheme
  std::string host_header;   // Host header value, e.g. "example.com:8443" or "[::1]:8080"
  std::string target;        // request target, e.g. "/api/agent/ws" (after any base path of the URL)
  bool host_is_address = false;  // an IP literal gets no SNI

  std::string display() const;  // ws(s)://host:port/target, for logs
};

// Throws std::invalid_argument with a readable message for anything that is not an http(s) URL
// with a host (user info, query and fragment are refused: they have no meaning here).
ControllerEndpoint parse_controller_url(std::string_view url);

}  // namespace tether::agent
