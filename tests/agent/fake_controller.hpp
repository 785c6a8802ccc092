#pragma once
// The controller's side of the agent WebSocket, scripted by a test: a real listening socket on
// 127.0.0.1 (optionally TLS) that accepts a real tether-agent process, checks its upgrade request
// and exchanges protocol messages with it. Every call is bounded by a timeout.
#include "proto/messages.hpp"
#include "proto/output_frame.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace tether::agent::testing {

struct UpgradeRequest {
  std::string target;
  std::string authorization;
  std::string user_agent;
};

// One message from the agent: a decoded control message or an output frame.
struct AgentFrame {
  std::optional<proto::AgentMessage> message;
  std::string binary;  // the encoded output frame when the frame was binary
  bool is_output() const { return !binary.empty(); }
  proto::OutputFrameView output() const { return proto::decode_output_frame(binary); }
};

class AgentConnection {
 public:
  virtual ~AgentConnection() = default;
  const UpgradeRequest& request() const { return request_; }
  // Throws std::runtime_error on timeout or when the agent closed the connection.
  virtual AgentFrame read(std::chrono::milliseconds timeout) = 0;
  virtual void send(const proto::ControllerMessage& message) = 0;
  // Drops the TCP connection without a close frame, as a crashing controller would.
  virtual void drop() = 0;

  // Reads until a control message of type T arrives; frames before it are appended to `skipped`.
  template <class T>
  T read_until(std::chrono::milliseconds timeout, std::vector<AgentFrame>* skipped = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto frame = read(std::max(left, std::chrono::milliseconds(1)));
      if (frame.message) {
        if (auto* wanted = std::get_if<T>(&*frame.message)) return *wanted;
      }
      if (skipped) skipped->push_back(std::move(frame));
    }
  }

 protected:
  UpgradeRequest request_;
};

class FakeController {
 public:
  // With `tls`, connections get a TLS handshake (server side) before the HTTP upgrade.
  explicit FakeController(boost::asio::ssl::context* tls = nullptr);
  ~FakeController();

  std::uint16_t port() const { return port_; }
  std::string url() const;

  // Accepts the next agent connection and completes the WebSocket upgrade.
  std::unique_ptr<AgentConnection> accept(std::chrono::milliseconds timeout);
  // Accepts the next connection and answers its upgrade request with `status` (e.g. 401).
  UpgradeRequest refuse(unsigned status, std::chrono::milliseconds timeout);

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ssl::context* tls_;
  std::uint16_t port_ = 0;
};

}  // namespace tether::agent::testing
