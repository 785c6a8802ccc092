#pragma once
// Where an HTTP connection goes when it asks to become an agent WebSocket (/api/agent/ws).
#include "common/any_stream.hpp"
#include "controller/http/types.hpp"

#include <string>

namespace tether::http {

class AgentUpgradeHandler {
 public:
  virtual ~AgentUpgradeHandler() = default;
  // `stream` is the connection, plain or TLS, with `request` read from it and not yet answered.
  virtual void upgrade(AnyStream stream, Request request, std::string client_ip) = 0;
};

}  // namespace tether::http
