#include "controller/agents/agent_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

namespace tether::agents {

namespace websocket = boost::beast::websocket;

AgentSession::AgentSession(AnyStream stream, operations::Lifecycle& lifecycle, std::string server_id,
                           std::chrono::seconds idle_timeout)
    : AgentLink(lifecycle, std::move(server_id), stream.get_executor()),
      ws_(std::move(stream)),
      idle_timeout_(idle_timeout) {}

std::shared_ptr<AgentSession> AgentSession::self() {
  return std::static_pointer_cast<AgentSession>(shared_from_this());
}

void AgentSession::accept(http::Request request) {
  ws_.next_layer().tcp().expires_never();  // the websocket's own timeouts take over
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = idle_timeout_;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.read_message_max(1024 * 1024);
  ws_.async_accept(request, [self = self()](boost::beast::error_code ec) {
    if (ec) {
      spdlog::warn("event=agent_upgrade_failed server_id={} error=\"{}\"", self->server_id(), ec.message());
      return;
    }
    self->do_read();
  });
}

void AgentSession::close(std::string reason) {
  boost::asio::post(strand_, [self = self(), reason = std::move(reason)] {
    if (self->closing_) return;
    self->closing_ = true;
    spdlog::info("event=agent_closing server_id={} reason=\"{}\"", self->server_id(), reason);
    websocket::close_reason why(websocket::close_code::policy_error);
    why.reason = reason.substr(0, 120);  // a close frame's reason is at most 123 bytes
    self->ws_.async_close(why, [self](boost::beast::error_code) { self->on_closed(); });
  });
}

void AgentSession::write_text(std::string text) {
  write_queue_.push_back(std::move(text));
  if (write_queue_.size() == 1) do_write();
}

void AgentSession::set_reading_paused(bool paused) {
  paused_ = paused;
  if (!paused) do_read();
}

void AgentSession::do_read() {
  if (paused_ || reading_) return;
  reading_ = true;
  ws_.async_read(buffer_, [self = self()](boost::beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void AgentSession::on_read(boost::beast::error_code ec) {
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

void AgentSession::do_write() {
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(write_queue_.front()), [self = self()](boost::beast::error_code ec, std::size_t) {
    if (ec) return self->on_closed();
    self->write_queue_.pop_front();
    if (!self->write_queue_.empty()) self->do_write();
  });
}

}  // namespace tether::agents
