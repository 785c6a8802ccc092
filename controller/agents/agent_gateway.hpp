#pragma once
// Turns an authenticated upgrade request on /api/agent/ws into an AgentSession. The server token
// is checked against the database before the WebSocket handshake is answered: an unknown, revoked
// or decommissioned token gets a plain HTTP 401 and no socket.
#include "controller/operations/lifecycle.hpp"
#include "controller/http/agent_upgrade.hpp"

#include <chrono>

namespace tether::agents {

class AgentGateway final : public http::AgentUpgradeHandler {
 public:
  AgentGateway(operations::Lifecycle& lifecycle, std::chrono::seconds idle_timeout)
      : lifecycle_(lifecycle), dispatcher_(lifecycle.dispatcher()), idle_timeout_(idle_timeout) {}

  void upgrade(AnyStream stream, http::Request request, std::string client_ip) override;

 private:
  operations::Lifecycle& lifecycle_;
  dispatch::Dispatcher& dispatcher_;
  std::chrono::seconds idle_timeout_;
};

}  // namespace tether::agents
