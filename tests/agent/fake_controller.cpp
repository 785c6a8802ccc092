#include "fake_controller.hpp"

#include "common/any_stream.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <stdexcept>

namespace tether::agent::testing {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

// Runs `io` until `*result` is set or `timeout` passes; on timeout calls `cancel` and lets the
// aborted handler run, so nothing refers to the caller's stack afterwards.
template <class Start, class Cancel>
beast::error_code perform(asio::io_context& io, std::chrono::milliseconds timeout, Start start, Cancel cancel) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code error, auto&&...) { result = error; });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  io.restart();
  while (!result && std::chrono::steady_clock::now() < deadline) {
    if (io.run_one_until(deadline) == 0 && io.stopped()) break;
  }
  if (result) return *result;
  cancel();
  io.restart();
  while (!result && io.run_one_for(std::chrono::seconds(1)) > 0) {
  }
  return asio::error::timed_out;
}

class Connection final : public AgentConnection {
 public:
  Connection(asio::io_context& io, AnyStream stream, UpgradeRequest request) : io_(io), ws_(std::move(stream)) {
    request_ = std::move(request);
  }

  websocket::stream<AnyStream>& ws() { return ws_; }

  AgentFrame read(std::chrono::milliseconds timeout) override {
    beast::flat_buffer buffer;
    const auto error = perform(
        io_, timeout, [&](auto handler) { ws_.async_read(buffer, std::move(handler)); },
        [&] { ws_.next_layer().tcp().close(); });
    if (error) throw std::runtime_error("reading from the agent: " + error.message());
    AgentFrame frame;
    if (ws_.got_text()) {
      frame.message = proto::decode_agent_message(beast::buffers_to_string(buffer.data()));
      if (!frame.message) throw std::runtime_error("agent sent a message of unknown type");
    } else {
      frame.binary = beast::buffers_to_string(buffer.data());
    }
    return frame;
  }

  void send(const proto::ControllerMessage& message) override {
    const auto text = proto::encode(message);
    ws_.text(true);
    const auto error = perform(
        io_, std::chrono::seconds(5), [&](auto handler) { ws_.async_write(asio::buffer(text), std::move(handler)); },
        [&] { ws_.next_layer().tcp().close(); });
    if (error) throw std::runtime_error("writing to the agent: " + error.message());
  }

  void drop() override { ws_.next_layer().tcp().close(); }

 private:
  asio::io_context& io_;
  websocket::stream<AnyStream> ws_;
};

// TLS handshake (when the stream has one), then the HTTP request of the upgrade.
http::request<http::string_body> read_upgrade_request(asio::io_context& io, AnyStream& stream,
                                                      beast::flat_buffer& buffer, std::chrono::milliseconds timeout) {
  if (stream.is_tls()) {
    const auto error = perform(
        io, timeout, [&](auto handler) { stream.async_handshake(asio::ssl::stream_base::server, std::move(handler)); },
        [&] { stream.tcp().close(); });
    if (error) throw std::runtime_error("TLS handshake with the agent failed: " + error.message());
  }
  http::request<http::string_body> request;
  const auto error = perform(
      io, timeout, [&](auto handler) { http::async_read(stream, buffer, request, std::move(handler)); },
      [&] { stream.tcp().close(); });
  if (error) throw std::runtime_error("reading the upgrade request: " + error.message());
  return request;
}

UpgradeRequest describe(const http::request<http::string_body>& request) {
  return UpgradeRequest{std::string(request.target()), std::string(request[http::field::authorization]),
                        std::string(request[http::field::user_agent])};
}

std::unique_ptr<AgentConnection> upgrade(asio::io_context& io, AnyStream stream, std::chrono::milliseconds timeout) {
  beast::flat_buffer buffer;
  auto request = read_upgrade_request(io, stream, buffer, timeout);
  if (!websocket::is_upgrade(request)) throw std::runtime_error("the agent's request is not a WebSocket upgrade");
  auto connection = std::make_unique<Connection>(io, std::move(stream), describe(request));
  const auto error = perform(
      io, timeout, [&](auto handler) { connection->ws().async_accept(request, std::move(handler)); },
      [&] { connection->ws().next_layer().tcp().close(); });
  if (error) throw std::runtime_error("WebSocket accept failed: " + error.message());
  return connection;
}

UpgradeRequest answer_with_status(asio::io_context& io, AnyStream stream, unsigned status,
                                  std::chrono::milliseconds timeout) {
  beast::flat_buffer buffer;
  const auto request = read_upgrade_request(io, stream, buffer, timeout);
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, "application/json");
  response.body() = R"({"detail":"invalid agent token"})";
  response.keep_alive(false);
  response.prepare_payload();
  perform(
      io, timeout, [&](auto handler) { http::async_write(stream, response, std::move(handler)); },
      [&] { stream.tcp().close(); });
  stream.tcp().close();
  return describe(request);
}

}  // namespace

FakeController::FakeController(asio::ssl::context* tls)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), tls_(tls) {
  port_ = acceptor_.local_endpoint().port();
}

FakeController::~FakeController() = default;

std::string FakeController::url() const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_);
}

namespace {

tcp::socket accept_socket(asio::io_context& io, tcp::acceptor& acceptor, std::chrono::milliseconds timeout) {
  tcp::socket socket(io);
  const auto error = perform(
      io, timeout, [&](auto handler) { acceptor.async_accept(socket, std::move(handler)); }, [&] { acceptor.cancel(); });
  if (error) throw std::runtime_error("no agent connected: " + error.message());
  // Small control messages back to back must not wait for delayed ACKs (Nagle).
  socket.set_option(tcp::no_delay(true));
  return socket;
}

AnyStream make_stream(tcp::socket socket, asio::ssl::context* tls) {
  beast::tcp_stream stream(std::move(socket));
  return tls ? AnyStream::tls(std::move(stream), *tls) : AnyStream::plain(std::move(stream));
}

}  // namespace

std::unique_ptr<AgentConnection> FakeController::accept(std::chrono::milliseconds timeout) {
  auto socket = accept_socket(io_, acceptor_, timeout);
  return upgrade(io_, make_stream(std::move(socket), tls_), timeout);
}

UpgradeRequest FakeController::refuse(unsigned status, std::chrono::milliseconds timeout) {
  auto socket = accept_socket(io_, acceptor_, timeout);
  return answer_with_status(io_, make_stream(std::move(socket), tls_), status, timeout);
}

}  // namespace tether::agent::testing
