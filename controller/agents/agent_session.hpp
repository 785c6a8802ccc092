#pragma once
// The I/O side of one agent WebSocket, plain or TLS (an AnyStream): owns the stream and its
// buffers, keeps one read and one write in flight, and feeds frames to AgentLink on the
// connection's strand.
#include "common/any_stream.hpp"
#include "controller/agents/agent_link.hpp"
#include "controller/http/types.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <deque>
#include <string>

namespace tether::agents {

class AgentSession final : public AgentLink {
 public:
  AgentSession(AnyStream stream, operations::Lifecycle& lifecycle, std::string server_id,
               std::chrono::seconds idle_timeout);

  // On the strand: completes the upgrade, then starts reading.
  void accept(http::Request request);
  void close(std::string reason) override;

 protected:
  void write_text(std::string text) override;
  void set_reading_paused(bool paused) override;

 private:
  std::shared_ptr<AgentSession> self();
  void do_read();
  void on_read(boost::beast::error_code ec);
  void do_write();

  boost::beast::websocket::stream<AnyStream> ws_;
  std::chrono::seconds idle_timeout_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> write_queue_;
  bool reading_ = false;
  bool paused_ = false;
  bool closing_ = false;
};

}  // namespace tether::agents
