// AnyStream (common/any_stream.hpp) over real loopback connections, plain and TLS: bytes written
// arrive whole and in order however many buffers a write is made of, completions run on the
// caller's executor, and a shutdown reaches the peer as the end of the stream.
#include "common/any_stream.hpp"

#include "tests/support/self_signed_certificate.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using tether::AnyStream;
using tether::testing::SelfSignedCertificate;

// Runs `io` until it has nothing left to do, for at most 10 s.
void run(asio::io_context& io) {
  io.restart();
  io.run_for(std::chrono::seconds(10));
}

// Both ends of one loopback connection, each an AnyStream, with the TLS handshake done when `tls`.
class Connection {
 public:
  explicit Connection(bool tls) {
    tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    tcp::socket accepted(io);
    beast::tcp_stream connecting(io);
    boost::system::error_code accept_error = asio::error::would_block, connect_error = asio::error::would_block;
    acceptor.async_accept(accepted, [&](boost::system::error_code ec) { accept_error = ec; });
    connecting.async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) { connect_error = ec; });
    run(io);
    REQUIRE_FALSE(accept_error);
    REQUIRE_FALSE(connect_error);
    beast::tcp_stream server_tcp(std::move(accepted));
    if (tls) {
      server.emplace(AnyStream::tls(std::move(server_tcp), server_context));
      client.emplace(AnyStream::tls(std::move(connecting), client_context));
    } else {
      server.emplace(AnyStream::plain(std::move(server_tcp)));
      client.emplace(AnyStream::plain(std::move(connecting)));
    }
    boost::system::error_code server_handshake = asio::error::would_block, client_handshake = asio::error::would_block;
    server->async_handshake(ssl::stream_base::server, [&](boost::system::error_code ec) { server_handshake = ec; });
    client->async_handshake(ssl::stream_base::client, [&](boost::system::error_code ec) { client_handshake = ec; });
    run(io);
    REQUIRE_FALSE(server_handshake);
    REQUIRE_FALSE(client_handshake);
  }

  asio::io_context io;
  SelfSignedCertificate certificate{"IP:127.0.0.1"};
  ssl::context server_context = certificate.server_context();
  ssl::context client_context{ssl::context::tls_client};  // verify_none: the transport is tested here
  std::optional<AnyStream> client;
  std::optional<AnyStream> server;
};

}  // namespace

TEST_CASE("a plain AnyStream has no TLS layer and a TLS one has", "[any_stream]") {
  Connection plain(false);
  REQUIRE_FALSE(plain.client->is_tls());
  REQUIRE(plain.client->tls_layer() == nullptr);
  Connection tls(true);
  REQUIRE(tls.client->is_tls());
  REQUIRE(tls.client->tls_layer() != nullptr);
}

TEST_CASE("a write of more buffers than one write_some takes arrives whole and in order", "[any_stream]") {
  const bool tls = GENERATE(false, true);
  CAPTURE(tls);
  Connection connection(tls);

  // 3 x WriteBuffers::capacity pieces of different sizes, one of them empty.
  std::vector<std::string> pieces;
  std::string expected;
  for (std::size_t i = 0; i < 3 * AnyStream::WriteBuffers::capacity; ++i) {
    pieces.push_back(i == 5 ? std::string() : std::string(1 + (i * 997) % 5000, static_cast<char>('a' + i % 26)));
    expected += pieces.back();
  }
  std::vector<asio::const_buffer> buffers;
  for (const auto& piece : pieces) buffers.push_back(asio::buffer(piece));

  std::string received(expected.size(), '\0');
  std::size_t written = 0, read = 0;
  boost::system::error_code write_error = asio::error::would_block, read_error = asio::error::would_block;
  asio::async_write(*connection.client, buffers, [&](boost::system::error_code ec, std::size_t n) {
    write_error = ec;
    written = n;
  });
  asio::async_read(*connection.server, asio::buffer(received), [&](boost::system::error_code ec, std::size_t n) {
    read_error = ec;
    read = n;
  });
  run(connection.io);
  REQUIRE_FALSE(write_error);
  REQUIRE_FALSE(read_error);
  REQUIRE(written == expected.size());
  REQUIRE(read == expected.size());
  REQUIRE(received == expected);
}

TEST_CASE("a read into a buffer sequence that starts empty fills the first buffer with room", "[any_stream]") {
  Connection connection(false);
  std::string sent = "hello";
  std::string first, second(16, '\0');
  std::array<asio::mutable_buffer, 2> buffers{asio::buffer(first), asio::buffer(second)};
  std::size_t got = 0;
  asio::async_write(*connection.client, asio::buffer(sent), [](boost::system::error_code, std::size_t) {});
  connection.server->async_read_some(buffers, [&](boost::system::error_code ec, std::size_t n) {
    REQUIRE_FALSE(ec);
    got = n;
  });
  run(connection.io);
  REQUIRE(got == sent.size());
  REQUIRE(second.substr(0, got) == sent);
}

TEST_CASE("completions run on the executor their handler is bound to", "[any_stream]") {
  const bool tls = GENERATE(false, true);
  CAPTURE(tls);
  Connection connection(tls);
  auto strand = asio::make_strand(connection.io);
  std::string sent = "ping", received(4, '\0');
  bool write_on_strand = false, read_on_strand = false;
  asio::async_write(*connection.client, asio::buffer(sent),
                    asio::bind_executor(strand, [&](boost::system::error_code ec, std::size_t) {
                      REQUIRE_FALSE(ec);
                      write_on_strand = strand.running_in_this_thread();
                    }));
  asio::async_read(*connection.server, asio::buffer(received),
                   asio::bind_executor(strand, [&](boost::system::error_code ec, std::size_t) {
                     REQUIRE_FALSE(ec);
                     read_on_strand = strand.running_in_this_thread();
                   }));
  run(connection.io);
  REQUIRE(received == sent);
  REQUIRE(write_on_strand);
  REQUIRE(read_on_strand);
}

TEST_CASE("a shutdown reaches the peer as the end of the stream", "[any_stream]") {
  const bool tls = GENERATE(false, true);
  CAPTURE(tls);
  Connection connection(tls);
  char byte = 0;
  boost::system::error_code read_error;
  connection.client->async_shutdown([](boost::system::error_code) {});
  connection.server->async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) {
    read_error = ec;
    // The client's TLS shutdown waits for the server's close_notify; closing ends it.
    connection.server->tcp().close();
  });
  run(connection.io);
  REQUIRE(read_error == asio::error::eof);
}
