#pragma once
// A bare agent connection for tests that play a misbehaving or hostile agent: it holds a server's
// token and speaks the protocol's frames (plain ws:// to 127.0.0.1), but does only what the test
// tells it to: no journal, no processes, no resends. Each call blocks for at most its timeout.
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace tether::testing {

class RawAgentSocket {
 public:
  // Connects and upgrades with `Authorization: Bearer <token>`; throws when either fails.
  RawAgentSocket(std::uint16_t port, const std::string& token);
  ~RawAgentSocket();
  RawAgentSocket(const RawAgentSocket&) = delete;
  RawAgentSocket& operator=(const RawAgentSocket&) = delete;

  // False when the connection is already closed.
  bool send_text(const std::string& text);
  bool send_binary(const std::string& frame);

  // The next text message; nullopt when the connection closed (or nothing came) within `timeout`.
  std::optional<std::string> read_text(std::chrono::milliseconds timeout);
  // Reads (and drops) messages until the peer closes the connection: true if it did in time.
  bool wait_closed(std::chrono::milliseconds timeout);
  // The controller closed the connection (as opposed to nothing coming in time).
  bool closed_by_peer() const { return closed_by_peer_; }

 private:
  enum class ReadOutcome { message, closed, timed_out };
  ReadOutcome read_one(std::chrono::milliseconds timeout, std::string& text);

  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  bool closed_ = false;  // closed by the peer, or unusable after a read that timed out
  bool closed_by_peer_ = false;
};

}  // namespace tether::testing
