#pragma once
// The I/O side of one agent WebSocket, plain or TLS: owns the stream and its buffers, keeps one
// read and one write in flight, and feeds frames to AgentLink on the connection's strand.
#include "controller/agents/agent_link.hpp"
#include "controller/http/types.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <deque>
#include <spdlog/spdlog.h>

namespace tether::agents {

template <class NextLayer>
class AgentSession final : public AgentLink {
 public:
  AgentSession(NextLayer&& stream, operations::Lifecycle& lifecycle, std::string server_id,
               std::chrono::seconds idle_timeout)
      : AgentLink(lifecycle, std::move(server_id), stream.get_executor()),
        ws_(std::move(stream)),
        idle_timeout_(idle_timeout) {}

  // On the strand: completes the upgrade, then starts reading.
  void accept(http::Request request) {
    boost::beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts take over
    boost::beast::websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    timeouts.idle_timeout = idle_timeout_;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(1024 * 1024);
    auto self = std::static_pointer_cast<AgentSession>(shared_from_this());
    ws_.async_accept(request, [self](boost::beast::error_code ec) {
      if (ec) {
        spdlog::warn("event=agent_upgrade_failed server_id={} error=\"{}\"", self->server_id(), ec.message());
        return;
      }
      self->do_read();
    });
  }

  void close(std::string reason) override {
    boost::asio::post(strand_, [self = std::static_pointer_cast<AgentSession>(shared_from_this()),
                                reason = std::move(reason)] {
      if (self->closing_) return;
      self->closing_ = true;
      spdlog::info("event=agent_closing server_id={} reason=\"{}\"", self->server_id(), reason);
      boost::beast::websocket::close_reason why(boost::beast::websocket::close_code::policy_error);
      why.reason = reason.substr(0, 120);  // a close frame's reason is at most 123 bytes
      self->ws_.async_close(why, [self](boost::beast::error_code) { self->on_closed(); });
    });
  }

 protected:
  void write_text(std::string text) override {
    write_queue_.push_back(std::move(text));
    if (write_queue_.size() == 1) do_write();
  }

  void set_reading_paused(bool paused) override {
    paused_ = paused;
    if (!paused) do_read();
  }

 private:
  void do_read() {
    if (paused_ || reading_) return;
    reading_ = true;
    ws_.async_read(buffer_, [self = std::static_pointer_cast<AgentSession>(shared_from_this())](
                                boost::beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(boost::beast::error_code ec) {
    reading_ = false;
    if (ec) return on_closed();
    const auto data = buffer_.cdata();
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    if (ws_.got_text()) {
      on_text(bytes);
    } else {
      on_binary(bytes);
    }
    buffer_.consume(buffer_.size());
    do_read();
  }

  void do_write() {
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(write_queue_.front()),
                    [self = std::static_pointer_cast<AgentSession>(shared_from_this())](boost::beast::error_code ec,
                                                                                        std::size_t) {
                      if (ec) return self->on_closed();
                      self->write_queue_.pop_front();
                      if (!self->write_queue_.empty()) self->do_write();
                    });
  }

  boost::beast::websocket::stream<NextLayer> ws_;
  std::chrono::seconds idle_timeout_;
  boost::beast::flat_buffer buffer_;
  std::deque<std::string> write_queue_;
  bool reading_ = false;
  bool paused_ = false;
  bool closing_ = false;
};

}  // namespace tether::agents
