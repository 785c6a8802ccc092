#pragma once
// Where an HTTP connection goes when it asks to become an agent WebSocket (/api/agent/ws).
#include "controller/http/types.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <string>

namespace tether::http {

class AgentUpgradeHandler {
 public:
  virtual ~AgentUpgradeHandler() = default;
  virtual void upgrade(boost::beast::tcp_stream stream, Request request, std::string client_ip) = 0;
  virtual void upgrade(boost::beast::ssl_stream<boost::beast::tcp_stream> stream, Request request,
                       std::string client_ip) = 0;
};

}  // namespace tether::http
