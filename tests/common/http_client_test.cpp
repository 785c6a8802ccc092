#include "common/http_client.hpp"

#include "common/any_stream.hpp"

#include "tests/support/net.hpp"
#include "tests/support/self_signed_certificate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using tether::AnyStream;
using tether::testing::SelfSignedCertificate;
using tether::http::Client;
using tether::http::ClientOptions;
using tether::http::TransportError;

namespace {

enum class Behaviour {
  keep_alive,           // answers and keeps the connection
  close_each,           // answers with "Connection: close" and closes
  drop_after_response,  // answers as keep-alive, then closes anyway (an idle timeout)
  silent,               // reads the request and never answers
};

// An HTTP/1.1 server on 127.0.0.1 in its own thread that echoes what it received:
// the body is "METHOD TARGET\nBODY", with the request's Authorization and Content-Type
// returned in X-Authorization and X-Content-Type; X-Want-Status picks the status.
class LoopbackServer {
 public:
  explicit LoopbackServer(Behaviour behaviour, ssl::context* tls = nullptr)
      : behaviour_(behaviour), tls_(tls), acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackServer() {
    io_.stop();
    thread_.join();
  }

  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  int connections() const { return connections_; }
  int requests() const { return requests_; }

 private:
  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++connections_;
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream tcp(std::move(socket));
    auto stream = tls_ ? AnyStream::tls(std::move(tcp), *tls_) : AnyStream::plain(std::move(tcp));
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (!ec) co_await serve(stream);
  }

  asio::awaitable<void> serve(AnyStream& stream) {
    beast::flat_buffer buffer;
    while (true) {
      bhttp::request<bhttp::string_body> request;
      auto [read_ec, read_bytes] =
          co_await bhttp::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
      if (read_ec) co_return;
      ++requests_;
      if (behaviour_ == Behaviour::silent) {
        asio::steady_timer forever(io_, std::chrono::hours(1));
        co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      const auto wanted = request["X-Want-Status"];
      bhttp::response<bhttp::string_body> response{
          wanted.empty() ? bhttp::status::ok : static_cast<bhttp::status>(std::stoi(std::string(wanted))), 11};
      if (request.target() == "/large") {
        response.body() = std::string(10 * 1024 * 1024, 'x');
      } else {
        response.body() = std::string(request.method_string()) + " " + std::string(request.target()) + "\n" +
                          request.body();
      }
      response.set("X-Authorization", request[bhttp::field::authorization]);
      response.set("X-Content-Type", request[bhttp::field::content_type]);
      response.keep_alive(behaviour_ != Behaviour::close_each);
      response.prepare_payload();
      auto [write_ec, written] = co_await bhttp::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
      if (write_ec || behaviour_ != Behaviour::keep_alive) {
        stream.tcp().close();
        co_return;
      }
    }
  }

  Behaviour behaviour_;
  ssl::context* tls_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
};

ClientOptions local(const std::string& port) {
  ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.timeout = std::chrono::seconds(10);
  return options;
}

}  // namespace

TEST_CASE("the client sends method, target, headers and body and returns status, headers and body", "[http]") {
  LoopbackServer server(Behaviour::keep_alive);
  Client client(local(server.port()));

  auto response = client.post("/api/things?x=1", R"({"a":1})",
                              {tether::http::bearer("rca_secret"), {"X-Want-Status", "201"}});
  CHECK(response.status == 201);
  CHECK(response.body == "POST /api/things?x=1\n{\"a\":1}");
  CHECK(response.header("x-authorization") == "Bearer rca_secret");  // names are case-insensitive
  CHECK(response.header("X-Content-Type") == "application/json");    // the default for a body
  CHECK_FALSE(response.header("X-Not-There").has_value());

  auto deleted = client.del("/api/things/1");
  CHECK(deleted.status == 200);
  CHECK(deleted.body == "DELETE /api/things/1\n");
}

TEST_CASE("an explicit Content-Type replaces the JSON default", "[http]") {
  LoopbackServer server(Behaviour::keep_alive);
  Client client(local(server.port()));
  auto response = client.post("/", "plain", {{"Content-Type", "text/plain"}});
  CHECK(response.header("X-Content-Type") == "text/plain");
}

TEST_CASE("consecutive requests reuse one kept-alive connection", "[http]") {
  LoopbackServer server(Behaviour::keep_alive);
  Client client(local(server.port()));
  for (int i = 0; i < 5; ++i) REQUIRE(client.get("/ping").status == 200);
  CHECK(server.requests() == 5);
  CHECK(server.connections() == 1);
}

TEST_CASE("a server that answers Connection: close gets a new connection for the next request", "[http]") {
  LoopbackServer server(Behaviour::close_each);
  Client client(local(server.port()));
  for (int i = 0; i < 3; ++i) REQUIRE(client.get("/ping").status == 200);
  CHECK(server.connections() == 3);
}

TEST_CASE("a kept-alive connection the server closed while idle is replaced transparently", "[http]") {
  LoopbackServer server(Behaviour::drop_after_response);
  Client client(local(server.port()));
  REQUIRE(client.get("/one").status == 200);
  // Let the server's close arrive before the next request is written.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto response = client.get("/two");
  CHECK(response.status == 200);
  CHECK(response.body == "GET /two\n");
  CHECK(server.requests() == 2);
  CHECK(server.connections() == 2);
}

TEST_CASE("a POST after the server closed the idle connection goes out once on a new connection", "[http]") {
  LoopbackServer server(Behaviour::drop_after_response);
  Client client(local(server.port()));
  REQUIRE(client.post("/exec", "{}").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto response = client.post("/exec", R"({"n":2})");
  CHECK(response.status == 200);
  CHECK(response.body == "POST /exec\n{\"n\":2}");
  CHECK(server.requests() == 2);
  CHECK(server.connections() == 2);
}

TEST_CASE("a server that never answers makes the request fail with a timeout", "[http]") {
  LoopbackServer server(Behaviour::silent);
  auto options = local(server.port());
  options.timeout = std::chrono::milliseconds(300);
  Client client(options);
  CHECK_THROWS_AS(client.get("/hang"), TransportError);
  CHECK(server.requests() == 1);
}

TEST_CASE("connecting to a port nobody listens on fails with a transport error", "[http]") {
  Client client(local(std::to_string(tether::testing::free_loopback_port())));
  CHECK_THROWS_WITH(client.get("/"), Catch::Contains("connect"));
}

TEST_CASE("response bodies larger than Beast's default limit are read whole", "[http]") {
  LoopbackServer server(Behaviour::keep_alive);
  Client client(local(server.port()));
  auto response = client.get("/large");
  CHECK(response.body.size() == 10u * 1024 * 1024);
}

TEST_CASE("TLS works when the server's certificate is trusted and names the host", "[http][tls]") {
  SelfSignedCertificate certificate("IP:127.0.0.1,DNS:localhost");
  auto context = certificate.server_context();
  LoopbackServer server(Behaviour::keep_alive, &context);

  auto options = local(server.port());
  options.tls = true;
  options.ca_file = certificate.cert_file();
  Client client(options);
  REQUIRE(client.get("/secure").body == "GET /secure\n");
  REQUIRE(client.get("/again").status == 200);
  CHECK(server.connections() == 1);

  options.host = "localhost";  // the DNS name in the certificate verifies too
  Client by_name(options);
  CHECK(by_name.get("/named").status == 200);
}

TEST_CASE("TLS refuses a certificate that is not trusted", "[http][tls]") {
  SelfSignedCertificate certificate("IP:127.0.0.1");
  auto context = certificate.server_context();
  LoopbackServer server(Behaviour::keep_alive, &context);

  auto options = local(server.port());
  options.tls = true;  // no CA file: the system store does not know this certificate
  Client client(options);
  CHECK_THROWS_WITH(client.get("/"), Catch::Contains("TLS handshake"));
  CHECK(server.requests() == 0);
}

TEST_CASE("TLS refuses a trusted certificate issued for another host", "[http][tls]") {
  SelfSignedCertificate certificate("DNS:other.test");
  auto context = certificate.server_context();
  LoopbackServer server(Behaviour::keep_alive, &context);

  auto options = local(server.port());
  options.tls = true;
  options.ca_file = certificate.cert_file();
  Client client(options);
  CHECK_THROWS_WITH(client.get("/"), Catch::Contains("TLS handshake"));
  CHECK(server.requests() == 0);
}

TEST_CASE("plain HTTP to a TLS server fails instead of returning garbage", "[http][tls]") {
  SelfSignedCertificate certificate("IP:127.0.0.1");
  auto context = certificate.server_context();
  LoopbackServer server(Behaviour::keep_alive, &context);
  auto options = local(server.port());
  options.timeout = std::chrono::seconds(2);
  Client client(options);
  CHECK_THROWS_AS(client.get("/"), TransportError);
}

TEST_CASE("ClientOptions::from_url reads scheme, host and port", "[http]") {
  auto plain = ClientOptions::from_url("http://127.0.0.1:8080");
  CHECK_FALSE(plain.tls);
  CHECK(plain.host == "127.0.0.1");
  CHECK(plain.port == "8080");

  auto secure = ClientOptions::from_url("https://tether.example/");
  CHECK(secure.tls);
  CHECK(secure.host == "tether.example");
  CHECK(secure.port == "443");

  CHECK(ClientOptions::from_url("http://localhost").port == "80");
  CHECK_THROWS_AS(ClientOptions::from_url("ftp://127.0.0.1:21"), std::invalid_argument);
  CHECK_THROWS_AS(ClientOptions::from_url("127.0.0.1:8080"), std::invalid_argument);
  CHECK_THROWS_AS(ClientOptions::from_url("http://"), std::invalid_argument);
}
