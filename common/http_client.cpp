#include "common/http_client.hpp"

#include "common/any_stream.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <cerrno>
#include <limits>
#include <strings.h>

namespace tether::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return std::nullopt;
}

ClientOptions ClientOptions::from_url(std::string_view base_url) {
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) throw std::invalid_argument(fmt::format("not a URL: '{}'", base_url));
  ClientOptions options;
  const auto scheme = parsed->scheme();
  if (scheme == "https") {
    options.tls = true;
  } else if (scheme != "http") {
    throw std::invalid_argument(fmt::format("URL scheme must be http or https: '{}'", base_url));
  }
  options.host = parsed->host_address();
  if (options.host.empty()) throw std::invalid_argument(fmt::format("URL has no host: '{}'", base_url));
  options.port = parsed->has_port() ? std::string(parsed->port()) : (options.tls ? "443" : "80");
  return options;
}

std::pair<std::string, std::string> bearer(std::string_view token) {
  return {"Authorization", fmt::format("Bearer {}", token)};
}

namespace {

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Errors that mean a kept-alive connection was closed by the server while idle: the request
// never reached it (or was never read), so it is safe to send again on a new connection.
bool is_stale_connection(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

bool is_idempotent(bhttp::verb method) {
  return method == bhttp::verb::get || method == bhttp::verb::head || method == bhttp::verb::put ||
         method == bhttp::verb::delete_ || method == bhttp::verb::options;
}

}  // namespace

class Client::Connection {
 public:
  explicit Connection(ClientOptions options) : options_(std::move(options)) {
    if (options_.tls) {
      ssl_context_.emplace(ssl::context::tls_client);
      ssl_context_->set_verify_mode(ssl::verify_peer);
      if (options_.ca_file.empty()) {
        ssl_context_->set_default_verify_paths();
      } else {
        ssl_context_->load_verify_file(options_.ca_file);
      }
    }
  }

  const ClientOptions& options() const { return options_; }

  void close() {
    if (stream_) {
      error_code ignored;
      stream_->tcp().socket().close(ignored);
    }
    stream_.reset();
    open_ = false;
  }

  Response request(std::string_view method, std::string_view target, std::string_view body, const Headers& headers) {
    bhttp::request<bhttp::string_body> req;
    const auto verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, fmt::format("{}:{}", options_.host, options_.port));
    req.set(bhttp::field::user_agent, "tether-http-client");
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
      req.set(name, value);
      if (::strcasecmp(name.c_str(), "content-type") == 0) has_content_type = true;
    }
    if (!body.empty() && !has_content_type) req.set(bhttp::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();

    // A kept-alive connection the server has closed while idle is replaced before use. Should the
    // server close it in the instant between that check and the write, only a request that is
    // safe to repeat is sent again: a POST that might have reached the server is never resent.
    if (open_ && !still_open()) close();
    const bool reused = open_;
    if (!open_) connect();
    try {
      return exchange(req);
    } catch (const StaleConnection&) {
      close();
      if (!reused || !is_idempotent(req.method())) {
        throw TransportError(fmt::format("{}: connection closed by the server before it answered", describe()));
      }
      connect();
      try {
        return exchange(req);
      } catch (const StaleConnection&) {
        close();
        throw TransportError(fmt::format("{}: connection closed by the server before it answered", describe()));
      }
    }
  }

 private:
  struct StaleConnection {};

  std::string describe() const {
    return fmt::format("{}://{}:{}", options_.tls ? "https" : "http", options_.host, options_.port);
  }

  // An idle kept-alive connection has nothing to read; end-of-stream, an error or unexpected
  // bytes (such as a TLS close_notify) mean the server is done with it.
  bool still_open() {
    char byte;
    const ssize_t got = ::recv(tcp_layer().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  beast::tcp_stream& tcp_layer() { return stream_->tcp(); }

  // Runs one asynchronous step to completion on this thread. The tcp_stream deadline bounds
  // socket steps; `run_for` bounds name resolution, which the stream does not see.
  template <class Start>
  error_code run_step(Start&& start) {
    error_code result = asio::error::would_block;
    bool done = false;
    start([&](error_code ec) {
      result = ec;
      done = true;
    });
    io_.restart();
    io_.run_for(options_.timeout + std::chrono::seconds(1));
    if (!done) {
      // Only a hung resolver can get here; close everything and let the handler run.
      resolver_.cancel();
      close();
      io_.restart();
      io_.run();
      return asio::error::timed_out;
    }
    return result;
  }

  void fail(std::string_view step, const error_code& ec) {
    close();
    throw TransportError(fmt::format("{}: {} failed: {}", describe(), step, ec.message()));
  }

  void connect() {
    close();
    buffer_.clear();
    tcp::resolver::results_type endpoints;
    error_code ec = run_step([&](auto done) {
      resolver_.async_resolve(options_.host, options_.port,
                              [&endpoints, done](error_code e, tcp::resolver::results_type results) {
                                endpoints = std::move(results);
                                done(e);
                              });
    });
    if (ec) fail("resolve", ec);

    stream_.emplace(options_.tls ? AnyStream::tls(beast::tcp_stream(io_), *ssl_context_)
                                 : AnyStream::plain(beast::tcp_stream(io_)));
    tcp_layer().expires_after(options_.timeout);
    ec = run_step([&](auto done) {
      tcp_layer().async_connect(endpoints, [done](error_code e, const tcp::endpoint&) { done(e); });
    });
    if (ec) fail("connect", ec);
    tcp_layer().socket().set_option(tcp::no_delay(true));

    if (auto* tls = stream_->tls_layer()) {
      if (!is_ip_address(options_.host) && !SSL_set_tlsext_host_name(tls->native_handle(), options_.host.c_str())) {
        fail("TLS server name", error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
      }
      tls->set_verify_callback(ssl::host_name_verification(options_.host));
      tcp_layer().expires_after(options_.timeout);
      ec = run_step([&](auto done) {
        stream_->async_handshake(ssl::stream_base::client, [done](error_code e) { done(e); });
      });
      if (ec) fail("TLS handshake", ec);
    }
    open_ = true;
  }

  Response exchange(bhttp::request<bhttp::string_body>& req) {
    auto& stream = *stream_;
    tcp_layer().expires_after(options_.timeout);
    error_code ec = run_step([&](auto done) {
      bhttp::async_write(stream, req, [done](error_code e, std::size_t) { done(e); });
    });
    if (ec) {
      if (is_stale_connection(ec)) throw StaleConnection{};
      fail("write", ec);
    }

    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    tcp_layer().expires_after(options_.timeout);
    ec = run_step([&](auto done) {
      bhttp::async_read(stream, buffer_, parser, [done](error_code e, std::size_t) { done(e); });
    });
    if (ec) {
      if (is_stale_connection(ec)) throw StaleConnection{};
      fail("read", ec);
    }

    auto message = parser.release();
    Response response;
    response.status = message.result_int();
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    // After a 101 the connection speaks another protocol; it cannot carry further requests.
    if (!message.keep_alive() || response.status == 101) close();
    return response;
  }

  ClientOptions options_;
  asio::io_context io_{1};
  tcp::resolver resolver_{io_};
  std::optional<ssl::context> ssl_context_;
  std::optional<AnyStream> stream_;
  beast::flat_buffer buffer_;
  bool open_ = false;
};

Client::Client(ClientOptions options) : connection_(std::make_unique<Connection>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Response Client::request(std::string_view method, std::string_view target, std::string_view body,
                         const Headers& headers) {
  return connection_->request(method, target, body, headers);
}

void Client::close() { connection_->close(); }

const ClientOptions& Client::options() const { return connection_->options(); }

}  // namespace tether::http
