// ControllerLink over Boost.Beast: one object per connection owning its socket and buffers, kept
// alive by shared_from_this across asynchronous calls (as in Beast's websocket client examples).
// Plain and TLS connections are the same WebSocket over an AnyStream (common/any_stream.hpp).
// The agent runs one io_context on one thread, so handlers never race and need no strand.
#include "agent/agent_config.hpp"
#include "agent/controller_link.hpp"
#include "common/any_stream.hpp"
#include "proto/output_frame.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include <deque>

namespace tether::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr auto connect_timeout = 10s;
constexpr auto initial_idle_timeout = 30s;  // until `welcome` gives the heartbeat interval
constexpr std::size_t max_message_bytes = 8 * 1024 * 1024;
constexpr std::size_t write_buffer_bytes = proto::max_output_payload + 1024;
constexpr std::size_t max_logged_body = 200;

class WebSocketLink : public ControllerLink, public std::enable_shared_from_this<WebSocketLink> {
 public:
  WebSocketLink(asio::any_io_executor executor, ssl::context& tls_context, ControllerEndpoint endpoint,
                std::string token, LinkEvents& events)
      : resolver_(executor),
        ws_(endpoint.tls ? AnyStream::tls(beast::tcp_stream(executor), tls_context)
                         : AnyStream::plain(beast::tcp_stream(executor))),
        endpoint_(std::move(endpoint)),
        token_(std::move(token)),
        events_(events) {}

  void run() override {
    resolver_.async_resolve(endpoint_.host, endpoint_.port,
                            beast::bind_front_handler(&WebSocketLink::on_resolve, shared_from_this()));
  }

  void send_text(std::string message) override { enqueue(false, std::move(message)); }
  void send_binary(std::string frame) override { enqueue(true, std::move(frame)); }

  void set_idle_timeout(std::chrono::seconds timeout) override {
    auto options = websocket::stream_base::timeout::suggested(beast::role_type::client);
    options.idle_timeout = timeout;
    options.keep_alive_pings = true;
    ws_.set_option(options);
  }

  void close() override {
    if (ended_ || closing_) return;
    closing_ = true;
    if (!open_) {
      // Still connecting: there is no WebSocket to close politely, drop the socket.
      resolver_.cancel();
      tcp_layer().close();
      return;
    }
    ws_.async_close(websocket::close_code::going_away,
                    [self = shared_from_this()](beast::error_code error) {
                      self->fail("closed", error ? error.message() : "closed by the agent");
                    });
  }

 private:
  beast::tcp_stream& tcp_layer() { return ws_.next_layer().tcp(); }

  void on_resolve(beast::error_code error, tcp::resolver::results_type results) {
    if (error) return fail("resolve", fmt::format("cannot resolve {}: {}", endpoint_.host, error.message()));
    tcp_layer().expires_after(connect_timeout);
    tcp_layer().async_connect(
        results, beast::bind_front_handler(&WebSocketLink::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code error, const tcp::endpoint&) {
    if (error) return fail("connect", fmt::format("cannot connect to {}: {}", endpoint_.host_header, error.message()));
    // Control messages are small and latency matters more than packet count.
    tcp_layer().socket().set_option(tcp::no_delay(true), error);
    if (auto* tls = ws_.next_layer().tls_layer()) {
      if (!endpoint_.host_is_address && !SSL_set_tlsext_host_name(tls->native_handle(), endpoint_.host.c_str())) {
        return fail("tls", "cannot set the TLS server name");
      }
      tls->set_verify_mode(ssl::verify_peer);
      tls->set_verify_callback(ssl::host_name_verification(endpoint_.host));
      tcp_layer().expires_after(connect_timeout);
      ws_.next_layer().async_handshake(
          ssl::stream_base::client, beast::bind_front_handler(&WebSocketLink::on_tls_handshake, shared_from_this()));
    } else {
      upgrade();
    }
  }

  void on_tls_handshake(beast::error_code error) {
    if (error) return fail("tls", fmt::format("TLS handshake with {} failed: {}", endpoint_.host_header, error.message()));
    upgrade();
  }

  void upgrade() {
    // From here on the WebSocket's own timeouts apply, not the TCP stream's.
    tcp_layer().expires_never();
    set_idle_timeout(std::chrono::duration_cast<std::chrono::seconds>(initial_idle_timeout));
    ws_.read_message_max(max_message_bytes);
    // A client masks what it sends, through this buffer: room for a whole output frame means one
    // socket write per frame instead of one per 4 KiB.
    ws_.write_buffer_bytes(write_buffer_bytes);
    ws_.set_option(websocket::stream_base::decorator([authorization = "Bearer " + token_](websocket::request_type& request) {
      request.set(http::field::authorization, authorization);
      request.set(http::field::user_agent, fmt::format("tether-agent/{}", agent_version));
    }));
    ws_.async_handshake(upgrade_response_, endpoint_.host_header, endpoint_.target,
                        beast::bind_front_handler(&WebSocketLink::on_upgrade, shared_from_this()));
  }

  void on_upgrade(beast::error_code error) {
    if (error) {
      // Only a declined upgrade carries the controller's answer: after any other failure the
      // response object holds Beast's placeholder (500), not something the controller said.
      if (error != websocket::error::upgrade_declined) return fail("upgrade", error.message(), 0);
      const unsigned status = upgrade_response_.result_int();
      auto body = upgrade_response_.body().substr(0, max_logged_body);
      return fail("upgrade", fmt::format("controller answered HTTP {} {}", status, body), status);
    }
    open_ = true;
    events_.on_link_open(*this);
    if (!ended_) read_next();
  }

  void read_next() {
    ws_.async_read(read_buffer_, beast::bind_front_handler(&WebSocketLink::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, std::size_t) {
    if (error) {
      if (error == websocket::error::closed) {
        const auto& reason = ws_.reason();
        return fail("closed", fmt::format("controller closed the connection (code {} {})",
                                          static_cast<unsigned>(reason.code), std::string(reason.reason.data(), reason.reason.size())));
      }
      return fail("read", error.message());
    }
    if (ws_.got_text()) {
      const auto data = read_buffer_.cdata();
      events_.on_link_message(*this, std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    // Binary frames from the controller carry nothing in protocol version 1; they are skipped.
    read_buffer_.consume(read_buffer_.size());
    if (!ended_) read_next();
  }

  void enqueue(bool binary, std::string payload) {
    if (ended_ || closing_ || !open_) return;
    queue_.push_back({binary, std::move(payload)});
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    auto& frame = queue_.front();
    ws_.binary(frame.binary);
    ws_.async_write(asio::buffer(frame.payload),
                    beast::bind_front_handler(&WebSocketLink::on_write, shared_from_this()));
  }

  void on_write(beast::error_code error, std::size_t) {
    writing_ = false;
    if (error) return fail("write", error.message());
    queue_.pop_front();
    if (!queue_.empty() && !ended_) write_next();
  }

  void fail(const char* stage, std::string message, unsigned http_status = 0) {
    if (ended_) return;
    ended_ = true;
    queue_.clear();
    beast::error_code ignored;
    tcp_layer().socket().close(ignored);
    events_.on_link_closed(*this, LinkFailure{stage, std::move(message), http_status});
  }

  struct Frame {
    bool binary;
    std::string payload;
  };

  tcp::resolver resolver_;
  websocket::stream<AnyStream> ws_;
  ControllerEndpoint endpoint_;
  std::string token_;
  LinkEvents& events_;
  websocket::response_type upgrade_response_;
  beast::flat_buffer read_buffer_;
  std::deque<Frame> queue_;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool ended_ = false;
};

}  // namespace

std::shared_ptr<ControllerLink> make_controller_link(asio::any_io_executor executor, ssl::context& tls_context,
                                                     const ControllerEndpoint& endpoint, std::string token,
                                                     LinkEvents& events) {
  return std::make_shared<WebSocketLink>(executor, tls_context, endpoint, std::move(token), events);
}

}  // namespace tether::agent
