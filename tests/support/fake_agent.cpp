#include "tests/support/fake_agent.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <stdexcept>

namespace tether::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

class FakeAgent::Impl {
 public:
  net::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  bool closed = false;

  // Runs `start` (which begins one async operation setting `done`) until it completes or
  // `timeout` passes; on timeout the socket is closed, which ends the operation.
  template <class Start>
  bool run(Start&& start, std::chrono::milliseconds timeout, bool& done) {
    done = false;
    io.restart();
    start();
    io.run_for(timeout);
    if (done) return true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    io.restart();
    io.run_for(std::chrono::seconds(1));
    closed = true;
    return false;
  }
};

FakeAgent::FakeAgent(std::uint16_t port, const std::string& token, const proto::Hello& hello)
    : impl_(std::make_unique<Impl>()) {
  auto& ws = impl_->ws;
  beast::get_lowest_layer(ws).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws.set_option(websocket::stream_base::decorator(
      [authorization = "Bearer " + token](websocket::request_type& request) {
        request.set(beast::http::field::authorization, authorization);
      }));
  bool done = false;
  beast::error_code error;
  impl_->run([&] { ws.async_handshake("127.0.0.1", "/api/agent/ws", [&](beast::error_code ec) {
                 error = ec;
                 done = true;
               }); },
             std::chrono::seconds(20), done);
  if (!done || error) throw std::runtime_error("agent WebSocket upgrade failed: " + (done ? error.message() : "timeout"));
  send(hello);
  auto answer = receive(std::chrono::seconds(20));
  const auto* welcome = answer.message ? std::get_if<proto::Welcome>(&*answer.message) : nullptr;
  if (welcome == nullptr) throw std::runtime_error("the controller did not answer the hello with a welcome");
  welcome_ = *welcome;
}

FakeAgent::~FakeAgent() { drop(); }

void FakeAgent::send(const proto::AgentMessage& message) {
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(proto::encode(message)));
}

void FakeAgent::send_output(const std::string& frame) {
  impl_->ws.binary(true);
  impl_->ws.write(net::buffer(frame));
}

bool FakeAgent::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    switch (receive(std::max(left, std::chrono::milliseconds(1))).outcome) {
      case Outcome::closed:
        return true;
      case Outcome::timed_out:
        return false;
      case Outcome::message:
        continue;
    }
  }
}

FakeAgent::Received FakeAgent::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->closed) {
    beast::flat_buffer buffer;
    bool done = false;
    beast::error_code error;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const bool finished = impl_->run([&] { impl_->ws.async_read(buffer, [&](beast::error_code ec, std::size_t) {
                                       error = ec;
                                       done = true;
                                     }); },
                                     left, done);
    if (!finished) return {Outcome::timed_out, std::nullopt};
    if (error) {
      impl_->closed = true;
      return {Outcome::closed, std::nullopt};
    }
    if (!impl_->ws.got_text()) continue;  // output acknowledgements only come as text; skip others
    auto message = proto::decode_controller_message(beast::buffers_to_string(buffer.data()));
    if (message) return {Outcome::message, std::move(message)};
  }
  return {impl_->closed ? Outcome::closed : Outcome::timed_out, std::nullopt};
}

proto::Dispatch FakeAgent::receive_dispatch(std::chrono::milliseconds timeout) {
  auto received = receive(timeout);
  const auto* dispatch = received.message ? std::get_if<proto::Dispatch>(&*received.message) : nullptr;
  if (dispatch == nullptr) {
    throw std::runtime_error(received.outcome == Outcome::closed      ? "the controller closed the socket"
                             : received.outcome == Outcome::timed_out ? "no dispatch arrived in time"
                                                                      : "a message other than dispatch arrived");
  }
  return *dispatch;
}

void FakeAgent::drop() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(impl_->ws).socket().close(ignored);
  impl_->closed = true;
}

proto::Hello fake_hello(std::vector<proto::JournalEntrySummary> operations) {
  proto::Hello hello;
  hello.agent_version = "0.1.0-fake";
  hello.hostname = "fake-agent";
  hello.os = "linux";
  hello.kernel = "test";
  hello.arch = "x86_64";
  hello.boot_id = "00000000-0000-4000-8000-000000000001";
  hello.capabilities.assign(std::begin(proto::operation_types), std::end(proto::operation_types));
  hello.operations = std::move(operations);
  return hello;
}

}  // namespace tether::testing
