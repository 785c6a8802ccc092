#pragma once
// The agent's one WebSocket to the controller (ws:// or wss://), as a frame pipe: it connects,
// upgrades with the agent token, then delivers text frames and sends text or binary frames.
// What the frames mean is the Agent's business (agent.hpp).
#include "agent/controller_endpoint.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace tether::agent {

struct LinkFailure {
  std::string stage;         // resolve | connect | tls | upgrade | read | write | closed
  std::string message;       // readable cause, safe to log (never contains the token)
  unsigned http_status = 0;  // the controller's HTTP status when it declined the upgrade
};

class ControllerLink;

class LinkEvents {
 public:
  virtual void on_link_open(ControllerLink& link) = 0;
  virtual void on_link_message(ControllerLink& link, std::string_view text) = 0;
  // Called once per link, whatever ended it (including close()).
  virtual void on_link_closed(ControllerLink& link, const LinkFailure& failure) = 0;

 protected:
  ~LinkEvents() = default;
};

class ControllerLink {
 public:
  virtual ~ControllerLink() = default;
  virtual void run() = 0;
  // Queued in order; Beast allows one outstanding write, so frames wait their turn.
  virtual void send_text(std::string message) = 0;
  virtual void send_binary(std::string frame) = 0;
  // WebSocket idle timeout; pings go out at half of it, silence for all of it closes the link.
  virtual void set_idle_timeout(std::chrono::seconds timeout) = 0;
  virtual void close() = 0;
};

// `tls_context` must outlive the link. The token only ever goes into the Authorization header.
std::shared_ptr<ControllerLink> make_controller_link(boost::asio::any_io_executor executor,
                                                     boost::asio::ssl::context& tls_context,
                                                     const ControllerEndpoint& endpoint, std::string token,
                                                     LinkEvents& events);

}  // namespace tether::agent
