#pragma once
// One object per HTTP connection, in the manner of Boost.Beast's advanced server: the session owns
// its stream and buffers, every handler keeps it alive through shared_from_this, and all of its
// handlers run on the strand its socket was accepted on. Plain and TLS connections are the same
// session over an AnyStream (common/any_stream.hpp); they differ only in how they start and end.
// Every request the session cannot serve safely (malformed, an HTTP version other than 1.0 and
// 1.1, ambiguous framing: two Content-Lengths, Content-Length with Transfer-Encoding) is answered
// 400 and the connection closed, since where the next request would begin is unknown. A HEAD
// request gets the head of the answer GET would get. The session holds its connection's slot
// (connection_limits.hpp) for as long as it lives.
#include "common/any_stream.hpp"
#include "controller/http/agent_upgrade.hpp"
#include "controller/http/connection_limits.hpp"
#include "controller/http/router.hpp"
#include "controller/http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>

namespace tether::http {

namespace beast = boost::beast;
namespace net = boost::asio;

struct ServerLimits {
  std::uint64_t body_limit = 1024 * 1024;
  std::uint32_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{30};   // a slow client's whole request must arrive in this time
  std::chrono::seconds idle_timeout{75};   // keep-alive connections with no new request are closed
  // An event stream's reader that takes no slice of it for this long is disconnected, so that it
  // stops holding back the agent whose output it follows.
  std::chrono::seconds stream_stall_timeout{20};
};

struct SessionServices {
  const Router& router;
  AgentUpgradeHandler& agents;
  ServerLimits limits;
};

class HttpSession final : public ResponseSink,
                          public StreamWriter,
                          public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(AnyStream stream, SessionServices services, std::string client_ip, ConnectionSlot slot);

  // Starts the session on its stream's strand: the TLS handshake when there is one, then the
  // first request.
  void run();

  void deliver(Response response) override;
  void deliver_event_stream(std::shared_ptr<StreamProducer> producer) override;

  // StreamWriter: the body of an event stream, as HTTP/1.1 chunks (or, for an HTTP/1.0 client,
  // raw bytes ended by closing the connection). Written in slices, each with its own deadline, so
  // that "stalled" means a reader that took no slice within stream_stall_timeout.
  void write(std::string data, std::function<void(bool)> done) override;
  void finish() override;
  net::any_io_executor executor() override;

 private:
  void do_read(bool first);
  void on_read(beast::error_code ec, std::size_t);
  void reject(bhttp::status status, const std::string& detail);
  void write_response(Response response);
  void write_slice(std::shared_ptr<std::string> data, std::size_t offset, std::function<void(bool)> done);
  void start_event_stream(std::shared_ptr<StreamProducer> producer);
  void on_write(bool keep_alive, beast::error_code ec);
  void do_eof();
  void drain(std::shared_ptr<std::array<char, 4096>> scratch, std::size_t drained);

  AnyStream stream_;
  SessionServices services_;
  std::string client_ip_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  ConnectionSlot slot_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;  // the request being answered is a HEAD
  // While an event stream is written: its producer, kept alive until it finishes or the client goes.
  std::shared_ptr<StreamProducer> producer_;
  bool chunked_ = true;
};

}  // namespace tether::http
