#pragma once
// A bare TCP connection to a port on 127.0.0.1, for tests that send what no HTTP client would
// (malformed requests), read exactly what came back byte for byte, or hold many connections open.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::testing {

class RawConnection {
 public:
  // Connects (blocking); throws std::runtime_error with the errno text when that fails.
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&&) = delete;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Writes all of `bytes`; false when the peer has closed or reset the connection.
  bool send(std::string_view bytes);

  struct Received {
    std::string bytes;    // everything read
    bool closed = false;  // the peer closed (EOF) or reset the connection
  };
  // Reads until the peer closes the connection or `timeout` passes.
  Received read_until_closed(std::chrono::milliseconds timeout);
  // Reads one HTTP response: the head and, unless `head_only`, a body of its Content-Length.
  // nullopt when the connection closed or `timeout` passed before it was complete.
  std::optional<std::string> read_response(std::chrono::milliseconds timeout, bool head_only = false);
  // Bytes already read past the last response (the start of what came next).
  const std::string& pending() const { return pending_; }

  void close();

 private:
  // Reads once into pending_; 0 on EOF or reset, -1 on timeout.
  long read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string pending_;
  bool closed_ = false;
};

// The status code of an HTTP response ("HTTP/1.1 404 Not Found..." -> 404), 0 when there is none.
int status_of(std::string_view response);
// The value of header `name` (case-insensitive) in a response head; nullopt when absent.
std::optional<std::string> header_of(std::string_view response, std::string_view name);
// What follows the head of a response.
std::string body_of(std::string_view response);

}  // namespace tether::testing
