#pragma once
// The agent's life: settle the journal, dial the controller, hello/welcome, heartbeats, hand
// controller messages to the operation table, and reconnect with backoff whenever the link ends.
#include "agent/agent_config.hpp"
#include "agent/backoff.hpp"
#include "agent/controller_link.hpp"
#include "agent/host_info.hpp"
#include "agent/journal.hpp"
#include "agent/operation_table.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <random>

namespace tether::agent {

class Agent final : private LinkEvents, private Outbound {
 public:
  // Throws (std::invalid_argument / std::system_error) when the state dir or CA file is unusable.
  Agent(boost::asio::io_context& io, AgentConfig config);
  ~Agent();

  void start();
  // Closes the link and stops the io_context; running commands are stopped with the agent
  // (the next start settles them as failed).
  void stop();

 private:
  void connect();
  void schedule_reconnect(const LinkFailure& failure);
  void schedule_heartbeat();
  void handle_message(std::string_view text);

  void on_link_open(ControllerLink& link) override;
  void on_link_message(ControllerLink& link, std::string_view text) override;
  void on_link_closed(ControllerLink& link, const LinkFailure& failure) override;

  bool ready() const override { return link_ && welcomed_; }
  void send_text(std::string message) override;
  void send_binary(std::string frame) override;

  boost::asio::io_context& io_;
  AgentConfig config_;
  HostInfo host_;
  boost::asio::ssl::context tls_context_;
  Journal journal_;
  OperationTable operations_;
  Backoff backoff_;
  std::mt19937_64 random_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  std::chrono::seconds heartbeat_interval_{10};
  std::shared_ptr<ControllerLink> link_;
  bool welcomed_ = false;
  bool stopping_ = false;
};

}  // namespace tether::agent
