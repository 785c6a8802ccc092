// The relay that end-to-end tests put between an agent and its controller: real sockets on
// 127.0.0.1 on both sides of it, each wait bounded.
#include "tests/support/tcp_proxy.hpp"

#include "tests/support/wait.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

using tether::testing::TcpProxy;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// The two ends the relay stands between: a client connecting to the proxy and the target the
// proxy connects to. Every operation runs the io_context for at most a bounded time.
class Ends {
 public:
  Ends() : target_listener_(io_, {asio::ip::address_v4::loopback(), 0}) {}

  std::uint16_t target_port() const { return target_listener_.local_endpoint().port(); }

  tcp::socket connect_client(std::uint16_t port) {
    tcp::socket socket(io_);
    socket.connect({asio::ip::address_v4::loopback(), port});
    return socket;
  }

  // The connection the proxy made to the target, or nullopt when none came within `timeout`.
  std::optional<tcp::socket> accept_at_target(std::chrono::milliseconds timeout = 5s) {
    std::optional<tcp::socket> accepted;
    target_listener_.async_accept([&](boost::system::error_code error, tcp::socket socket) {
      if (!error) accepted = std::move(socket);
    });
    run_for(timeout);
    if (!accepted) {
      target_listener_.cancel();
      drain();
    }
    return accepted;
  }

  void send(tcp::socket& socket, const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }

  // Reads until `expected` bytes came, the peer ended the stream or `timeout` passed.
  struct Received {
    std::string bytes;
    boost::system::error_code error;  // would_block: still open, nothing more within the timeout
  };
  Received receive(tcp::socket& socket, std::size_t expected, std::chrono::milliseconds timeout = 5s) {
    Received received;
    received.bytes.resize(expected);
    received.error = asio::error::would_block;
    std::size_t got = 0;
    asio::async_read(socket, asio::buffer(received.bytes), [&](boost::system::error_code error, std::size_t bytes) {
      received.error = error;
      got = bytes;
    });
    run_for(timeout);
    if (received.error == asio::error::would_block) {
      socket.cancel();
      drain();
      received.error = asio::error::would_block;
    }
    received.bytes.resize(got);
    return received;
  }

 private:
  void run_for(std::chrono::milliseconds timeout) {
    io_.restart();
    io_.run_for(timeout);
  }
  // Lets canceled operations finish before their captured locals go away.
  void drain() {
    io_.restart();
    io_.run();
  }

  asio::io_context io_;
  tcp::acceptor target_listener_;
};

bool is_reset(const boost::system::error_code& error) {
  return error == asio::error::connection_reset || error == asio::error::eof;
}

}  // namespace

TEST_CASE("the proxy relays bytes both ways between its client and the target", "[support][tcp-proxy]") {
  Ends ends;
  TcpProxy proxy(ends.target_port());
  auto client = ends.connect_client(proxy.port());
  auto target = ends.accept_at_target();
  REQUIRE(target);

  ends.send(client, "ping from the client");
  CHECK(ends.receive(*target, 20).bytes == "ping from the client");
  ends.send(*target, "pong from the target");
  CHECK(ends.receive(client, 20).bytes == "pong from the target");

  CHECK(proxy.accepted() == 1);
  CHECK(proxy.relayed() == 1);
  CHECK(proxy.open() == 1);
  CHECK(proxy.refused() == 0);
}

TEST_CASE("cut resets both sides of every open connection and new connections are relayed again",
          "[support][tcp-proxy]") {
  Ends ends;
  TcpProxy proxy(ends.target_port());
  auto first_client = ends.connect_client(proxy.port());
  auto first_target = ends.accept_at_target();
  auto second_client = ends.connect_client(proxy.port());
  auto second_target = ends.accept_at_target();
  REQUIRE(first_target);
  REQUIRE(second_target);
  // The target's accept can complete before the relay has seen its own connect complete.
  REQUIRE(tether::testing::wait_until([&] { return proxy.open() == 2; }, 5s));

  proxy.cut();
  CHECK(ends.receive(first_client, 1).error == asio::error::connection_reset);
  CHECK(ends.receive(*first_target, 1).error == asio::error::connection_reset);
  CHECK(ends.receive(second_client, 1).error == asio::error::connection_reset);
  CHECK(ends.receive(*second_target, 1).error == asio::error::connection_reset);
  CHECK(proxy.open() == 0);

  auto client = ends.connect_client(proxy.port());
  auto target = ends.accept_at_target();
  REQUIRE(target);
  ends.send(client, "again");
  CHECK(ends.receive(*target, 5).bytes == "again");
  CHECK(proxy.accepted() == 3);
  CHECK(proxy.relayed() == 3);
}

TEST_CASE("while refusing, a new connection is reset at once and never reaches the target", "[support][tcp-proxy]") {
  Ends ends;
  TcpProxy proxy(ends.target_port());
  proxy.refuse(true);
  auto refused_client = ends.connect_client(proxy.port());
  CHECK(is_reset(ends.receive(refused_client, 1).error));
  CHECK_FALSE(ends.accept_at_target(300ms));
  CHECK(proxy.refused() == 1);
  CHECK(proxy.relayed() == 0);

  proxy.refuse(false);
  auto client = ends.connect_client(proxy.port());
  auto target = ends.accept_at_target();
  REQUIRE(target);
  ends.send(client, "after the outage");
  CHECK(ends.receive(*target, 16).bytes == "after the outage");
  CHECK(proxy.accepted() == 2);
  CHECK(proxy.refused() == 1);
}

TEST_CASE("a blackhole holds bytes and ends of stream back without a reset, then lets them through in order",
          "[support][tcp-proxy]") {
  Ends ends;
  TcpProxy proxy(ends.target_port());
  auto client = ends.connect_client(proxy.port());
  auto target = ends.accept_at_target();
  REQUIRE(target);

  proxy.blackhole(true);
  ends.send(client, "one ");
  ends.send(client, "two");
  ends.send(*target, "answer");
  client.shutdown(tcp::socket::shutdown_send);
  // Silence, not an error, on both sides.
  CHECK(ends.receive(*target, 1, 300ms).error == asio::error::would_block);
  CHECK(ends.receive(client, 1, 300ms).error == asio::error::would_block);
  CHECK(proxy.open() == 1);

  proxy.blackhole(false);
  CHECK(ends.receive(*target, 7).bytes == "one two");
  CHECK(ends.receive(client, 6).bytes == "answer");
  // The client's end of stream was held back too, and arrives after its bytes.
  CHECK(ends.receive(*target, 1).error == asio::error::eof);
}

TEST_CASE("a tripwire cuts every connection after or instead of the chunk that holds its needle",
          "[support][tcp-proxy]") {
  Ends ends;
  TcpProxy proxy(ends.target_port());

  SECTION("deliver, then cut; the needle straddles two reads") {
    auto client = ends.connect_client(proxy.port());
    auto target = ends.accept_at_target();
    REQUIRE(target);
    proxy.cut_when(TcpProxy::Direction::to_client, "DISPATCH", TcpProxy::Tripwire::deliver_then_cut);
    // The needle in the other direction does not count.
    ends.send(client, "DISPATCH upstream");
    CHECK(ends.receive(*target, 17).bytes == "DISPATCH upstream");
    ends.send(*target, "first DISP");
    CHECK(ends.receive(client, 10).bytes == "first DISP");
    CHECK(proxy.tripwires_fired() == 0);
    ends.send(*target, "ATCH rest");
    const auto received = ends.receive(client, 100);
    CHECK(received.bytes == "ATCH rest");
    CHECK(received.error == asio::error::connection_reset);
    CHECK(ends.receive(*target, 1).error == asio::error::connection_reset);
    CHECK(proxy.tripwires_fired() == 1);
  }

  SECTION("cut instead of delivering") {
    auto client = ends.connect_client(proxy.port());
    auto target = ends.accept_at_target();
    REQUIRE(target);
    proxy.cut_when(TcpProxy::Direction::to_target, "accepted", TcpProxy::Tripwire::cut_instead);
    ends.send(client, "{\"type\":\"accepted\"}");
    CHECK(ends.receive(*target, 100).error == asio::error::connection_reset);
    const auto received = ends.receive(client, 1);
    CHECK(received.bytes.empty());
    CHECK(received.error == asio::error::connection_reset);
    CHECK(proxy.tripwires_fired() == 1);
  }

  // One-shot: the next connection carries both needles untouched, both ways.
  auto client = ends.connect_client(proxy.port());
  auto target = ends.accept_at_target();
  REQUIRE(target);
  ends.send(*target, "DISPATCH accepted");
  CHECK(ends.receive(client, 17).bytes == "DISPATCH accepted");
  ends.send(client, "DISPATCH accepted");
  CHECK(ends.receive(*target, 17).bytes == "DISPATCH accepted");
  CHECK(proxy.tripwires_fired() == 1);
}
