#include "tests/support/raw_agent_socket.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>

#include <stdexcept>

namespace tether::testing {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

RawAgentSocket::RawAgentSocket(std::uint16_t port, const std::string& token) : ws_(io_) {
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws_).connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& request) {
    request.set(beast::http::field::authorization, "Bearer " + token);
  }));
  ws_.handshake("127.0.0.1:" + std::to_string(port), "/api/agent/ws");
  beast::get_lowest_layer(ws_).expires_never();
}

RawAgentSocket::~RawAgentSocket() {
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

bool RawAgentSocket::send_text(const std::string& text) {
  if (closed_) return false;
  boost::system::error_code ec;
  ws_.text(true);
  ws_.write(net::buffer(text), ec);
  if (ec) closed_ = true;
  return !ec;
}

bool RawAgentSocket::send_binary(const std::string& frame) {
  if (closed_) return false;
  boost::system::error_code ec;
  ws_.binary(true);
  ws_.write(net::buffer(frame), ec);
  if (ec) closed_ = true;
  return !ec;
}

RawAgentSocket::ReadOutcome RawAgentSocket::read_one(std::chrono::milliseconds timeout, std::string& text) {
  if (closed_) return ReadOutcome::closed;
  beast::flat_buffer buffer;
  std::optional<boost::system::error_code> result;
  ws_.async_read(buffer, [&](boost::system::error_code ec, std::size_t) { result = ec; });
  io_.restart();
  io_.run_for(timeout);
  if (!result) {
    // Nothing came in time: cancel the read. The stream is unusable after that, so it counts as
    // closed for later calls; tests that wait for a close treat this as "not closed in time".
    beast::get_lowest_layer(ws_).cancel();
    io_.restart();
    io_.run();
    closed_ = true;
    return ReadOutcome::timed_out;
  }
  if (*result) {
    closed_ = true;
    closed_by_peer_ = true;
    return ReadOutcome::closed;
  }
  text = beast::buffers_to_string(buffer.data());
  return ReadOutcome::message;
}

std::optional<std::string> RawAgentSocket::read_text(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::string text;
    if (read_one(left, text) != ReadOutcome::message) return std::nullopt;
    if (ws_.got_text()) return text;
  }
}

bool RawAgentSocket::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    std::string text;
    switch (read_one(left, text)) {
      case ReadOutcome::message:
        continue;
      case ReadOutcome::closed:
        return true;
      case ReadOutcome::timed_out:
        return false;
    }
  }
}

}  // namespace tether::testing
