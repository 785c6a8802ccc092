#pragma once
// A small synchronous HTTP/1.1 client (Boost.Beast) for tests, benchmarks and scripts.
//
// One client owns one connection and reuses it while the server keeps it alive, so a sequence of
// requests pays for the TCP (and TLS) handshake once. Each step (resolve, connect, handshake,
// write, read) is bounded by the configured timeout. Not thread-safe: use one client per thread.
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  unsigned status = 0;
  Headers headers;
  std::string body;

  // Case-insensitive lookup of the first header with this name.
  std::optional<std::string> header(std::string_view name) const;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  bool tls = false;
  // PEM file of trusted certificate authorities; when empty, the system's default trust store.
  // The server's certificate must also match `host` (DNS name or IP address).
  std::string ca_file;
  std::chrono::milliseconds timeout{30'000};

  // "http://host:port" or "https://host:port" (a path, if any, is ignored). Throws
  // std::invalid_argument for anything else.
  static ClientOptions from_url(std::string_view base_url);
};

// Transport failures (refused connection, timeout, TLS verification, connection closed mid-reply)
// throw this; HTTP error statuses are ordinary responses.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // `method` is an HTTP method name such as "GET". A non-empty body is sent with the
  // Content-Type given in `headers`, or application/json when none is given.
  Response request(std::string_view method, std::string_view target, std::string_view body = {},
                   const Headers& headers = {});

  Response get(std::string_view target, const Headers& headers = {}) { return request("GET", target, {}, headers); }
  Response post(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return request("POST", target, body, headers);
  }
  Response del(std::string_view target, const Headers& headers = {}) { return request("DELETE", target, {}, headers); }

  // Drops the current connection; the next request opens a new one.
  void close();

  const ClientOptions& options() const;

 private:
  class Connection;
  std::unique_ptr<Connection> connection_;
};

// Authorization header helper: {"Authorization", "Bearer <token>"}.
std::pair<std::string, std::string> bearer(std::string_view token);

}  // namespace tether::http
