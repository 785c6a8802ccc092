#pragma once
// A blocking reader of one Server-Sent Events stream, for tests and benchmarks of the
// controller's live output endpoints.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::testing {

struct SseEvent {
  std::string id;     // "" when the event had no id field
  std::string event;  // "message" when the event had no event field
  std::string data;   // data lines joined with "\n"
};

struct SseRequest {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string target;                                        // "/api/operations/<id>/stream?token=..."
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization, Last-Event-ID, ...
};

// A blocking client for one event stream over plain HTTP (Boost.Beast): connects, sends the GET,
// reads the response head. Comment lines are skipped; chunked encoding is decoded by Beast.
//
// It reads from the socket only when next() needs more bytes for an event, at most 64 KiB at a
// time, so a caller that stops calling next() leaves the rest in the socket and the server feels
// it (back-pressure). A timed-out next() leaves the connection usable.
class SseClient {
 public:
  // Throws std::runtime_error when connecting, sending or reading the head fails or takes longer
  // than `connect_timeout` (each step; a non-200 body is read within it too).
  explicit SseClient(const SseRequest& request,
                     std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const;
  std::string header(std::string_view name) const;  // "" if absent
  // For non-200 answers: the whole body (read by the constructor).
  const std::string& error_body() const;
  // The next event; nullopt when the server closed the stream (an event cut off by the close is
  // dropped, as the SSE standard says). Throws std::runtime_error when no event arrives within
  // `timeout`, or on a transport error other than the end of the stream.
  std::optional<SseEvent> next(std::chrono::milliseconds timeout);
  // Closes the connection at once (a reader that goes away mid-stream).
  void close();
  // Bytes of response body received so far (after dechunking).
  std::uint64_t body_bytes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::testing
