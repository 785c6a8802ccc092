#pragma once
// One object per HTTP connection, in the manner of Boost.Beast's advanced server: the session owns
// its stream and buffers, every handler keeps it alive through shared_from_this, and all of its
// handlers run on the strand its socket was accepted on. Plain and TLS sessions share this logic
// through CRTP; they differ only in their stream and how they start and end.
// Every request the session cannot serve safely (malformed, an HTTP version other than 1.0 and
// 1.1, ambiguous framing: two Content-Lengths, Content-Length with Transfer-Encoding) is answered
// 400 and the connection closed, since where the next request would begin is unknown. A HEAD
// request gets the head of the answer GET would get. The session holds its connection's slot
// (connection_limits.hpp) for as long as it lives.
#include "controller/http/agent_upgrade.hpp"
#include "controller/http/connection_limits.hpp"
#include "controller/http/responses.hpp"
#include "controller/http/router.hpp"
#include "controller/http/types.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

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

template <class Derived>
class HttpSession : public ResponseSink, public StreamWriter {
 public:
  HttpSession(SessionServices services, std::string client_ip, ConnectionSlot slot)
      : services_(services), client_ip_(std::move(client_ip)), slot_(std::move(slot)) {}

  void deliver(Response response) override {
    net::post(derived().stream().get_executor(),
              [self = derived().shared_from_this(), response = std::move(response)]() mutable {
                self->write_response(std::move(response));
              });
  }

  void deliver_event_stream(std::shared_ptr<StreamProducer> producer) override {
    net::post(derived().stream().get_executor(),
              [self = derived().shared_from_this(), producer = std::move(producer)]() mutable {
                self->start_event_stream(std::move(producer));
              });
  }

  // StreamWriter: the body of an event stream, as HTTP/1.1 chunks (or, for an HTTP/1.0 client,
  // raw bytes ended by closing the connection). Written in slices, each with its own deadline, so
  // that "stalled" means a reader that took no slice within stream_stall_timeout.
  void write(std::string data, std::function<void(bool)> done) override {
    write_slice(std::make_shared<std::string>(std::move(data)), 0, std::move(done));
  }

  void finish() override {
    auto on_written = [self = derived().shared_from_this()](beast::error_code, std::size_t) {
      self->producer_.reset();
      self->derived().do_eof();
    };
    beast::get_lowest_layer(derived().stream()).expires_after(services_.limits.stream_stall_timeout);
    if (chunked_) {
      net::async_write(derived().stream(), bhttp::make_chunk_last(), std::move(on_written));
    } else {
      net::post(derived().stream().get_executor(), [on_written = std::move(on_written)]() mutable {
        on_written({}, 0);
      });
    }
  }

  net::any_io_executor executor() override { return derived().stream().get_executor(); }

 protected:
  void do_read(bool first) {
    parser_.emplace();
    parser_->body_limit(services_.limits.body_limit);
    parser_->header_limit(services_.limits.header_limit);
    beast::get_lowest_layer(derived().stream())
        .expires_after(first ? services_.limits.read_timeout : services_.limits.idle_timeout);
    bhttp::async_read(derived().stream(), buffer_, *parser_,
                      beast::bind_front_handler(&HttpSession::on_read, derived().shared_from_this()));
  }

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }

  // What the parser refuses as not HTTP/1.x: the client gets a 400 rather than a silent close.
  static bool malformed(const beast::error_code& ec) {
    using bhttp::error;
    for (const auto refused : {error::bad_line_ending, error::bad_method, error::bad_target, error::bad_version,
                               error::bad_field, error::bad_value, error::bad_content_length,
                               error::bad_transfer_encoding, error::bad_chunk, error::bad_chunk_extension,
                               error::bad_obs_fold, error::multiple_content_length}) {
      if (ec == refused) return true;
    }
    return false;
  }

  // What the parser lets through but this server does not: versions it does not speak, and
  // framing that two readers of the same bytes could take differently (request smuggling).
  static std::optional<std::string> unservable(const Request& request) {
    if (request.version() != 10 && request.version() != 11) {
      return "unsupported HTTP version " + std::to_string(request.version() / 10) + "." +
             std::to_string(request.version() % 10) + " (HTTP/1.0 and HTTP/1.1 are served)";
    }
    const auto lengths = request.count(bhttp::field::content_length);
    if (lengths > 1 || (lengths == 1 && request[bhttp::field::content_length].find(',') != beast::string_view::npos)) {
      return std::string("more than one Content-Length");
    }
    if (request.count(bhttp::field::transfer_encoding) > 0) {
      if (lengths > 0) return std::string("both Content-Length and Transfer-Encoding");
      if (!request.chunked()) return std::string("a Transfer-Encoding other than chunked");
    }
    return std::nullopt;
  }

  void on_read(beast::error_code ec, std::size_t) {
    head_ = false;
    if (ec == bhttp::error::end_of_stream) return derived().do_eof();
    if (ec == bhttp::error::body_limit) return reject(bhttp::status::payload_too_large, "request body too large");
    if (ec == bhttp::error::header_limit) {
      return reject(bhttp::status::request_header_fields_too_large, "request headers too large");
    }
    if (malformed(ec)) return reject(bhttp::status::bad_request, "malformed request: " + ec.message());
    if (ec) return;  // timeout, reset, or the client left mid-request: no one to answer
    if (auto problem = unservable(parser_->get())) return reject(bhttp::status::bad_request, *problem);
    // The handler may take a while (a sync exec waits for its command): no read deadline meanwhile.
    beast::get_lowest_layer(derived().stream()).expires_never();
    Request request = parser_->release();
    version_ = request.version();
    keep_alive_ = request.keep_alive();
    head_ = request.method() == bhttp::verb::head;
    if (beast::websocket::is_upgrade(request)) {
      std::string_view target = request.target();
      if (target.substr(0, target.find('?')) == "/api/agent/ws") {
        services_.agents.upgrade(derived().release_stream(), std::move(request), client_ip_);
        return;
      }
    }
    RequestContext context{std::move(request), client_ip_, {}, Responder(derived().shared_from_this())};
    services_.router.route(context);
  }

  void reject(bhttp::status status, const std::string& detail) {
    keep_alive_ = false;
    write_response(error_response(status, detail));
  }

  void write_response(Response response) {
    response.version(version_);
    response.keep_alive(keep_alive_);
    response.prepare_payload();
    auto shared = std::make_shared<Response>(std::move(response));
    beast::get_lowest_layer(derived().stream()).expires_after(services_.limits.read_timeout);
    if (head_) {
      // The head GET would send, Content-Length included, and no body.
      auto serializer = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*shared);
      bhttp::async_write_header(
          derived().stream(), *serializer,
          [self = derived().shared_from_this(), shared, serializer](beast::error_code ec, std::size_t) {
            self->on_write(shared->keep_alive(), ec);
          });
      return;
    }
    bhttp::async_write(derived().stream(), *shared,
                       [self = derived().shared_from_this(), shared](beast::error_code ec, std::size_t) {
                         self->on_write(shared->keep_alive(), ec);
                       });
  }

  // Large enough that a fast reader gets a live batch in one write (smaller slices cost a tenth
  // of the throughput), small enough that a slow one finishes a slice well within the deadline.
  static constexpr std::size_t stream_slice_bytes = 256 * 1024;

  void write_slice(std::shared_ptr<std::string> data, std::size_t offset, std::function<void(bool)> done) {
    const auto size = std::min(stream_slice_bytes, data->size() - offset);
    const auto slice = net::buffer(data->data() + offset, size);
    auto on_written = [self = derived().shared_from_this(), data, next = offset + size,
                       done = std::move(done)](beast::error_code ec, std::size_t) mutable {
      if (ec) {
        done(false);
        self->producer_.reset();
      } else if (next < data->size()) {
        self->write_slice(std::move(data), next, std::move(done));
      } else {
        done(true);
      }
    };
    beast::get_lowest_layer(derived().stream()).expires_after(services_.limits.stream_stall_timeout);
    if (chunked_) {
      net::async_write(derived().stream(), bhttp::make_chunk(slice), std::move(on_written));
    } else {
      net::async_write(derived().stream(), slice, std::move(on_written));
    }
  }

  void start_event_stream(std::shared_ptr<StreamProducer> producer) {
    producer_ = std::move(producer);
    chunked_ = version_ >= 11;
    auto head = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::ok, version_);
    head->set(bhttp::field::content_type, "text/event-stream");
    head->set(bhttp::field::cache_control, "no-cache");
    head->set("X-Accel-Buffering", "no");  // a reverse proxy must pass events on as they come
    head->keep_alive(false);
    head->chunked(chunked_);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*head);
    beast::get_lowest_layer(derived().stream()).expires_after(services_.limits.stream_stall_timeout);
    bhttp::async_write_header(derived().stream(), *serializer,
                              [self = derived().shared_from_this(), head, serializer](beast::error_code ec, std::size_t) {
                                if (ec) return self->producer_.reset();
                                if (self->head_) {  // HEAD: the head is all there is
                                  self->producer_.reset();
                                  return self->derived().do_eof();
                                }
                                self->producer_->start(self);
                              });
  }

  void on_write(bool keep_alive, beast::error_code ec) {
    if (ec) return;
    if (!keep_alive) return derived().do_eof();
    do_read(false);
  }

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

class PlainHttpSession : public HttpSession<PlainHttpSession>,
                         public std::enable_shared_from_this<PlainHttpSession> {
 public:
  PlainHttpSession(beast::tcp_stream&& stream, SessionServices services, std::string client_ip, ConnectionSlot slot)
      : HttpSession(services, std::move(client_ip), std::move(slot)), stream_(std::move(stream)) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(true); });
  }
  beast::tcp_stream& stream() { return stream_; }
  beast::tcp_stream release_stream() { return std::move(stream_); }
  void do_eof() {
    beast::error_code ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    // Closing a socket with unread bytes makes the kernel reset the connection, and the reset can
    // destroy an answer the client has not read yet (a 400 or 413 sent before the whole request
    // was read). So read and drop what still comes until the client closes too, for a moment.
    stream_.expires_after(linger_time);
    drain(std::make_shared<std::array<char, 4096>>(), 0);
  }

 private:
  static constexpr std::chrono::seconds linger_time{2};
  static constexpr std::size_t linger_max_bytes = 1024 * 1024;

  void drain(std::shared_ptr<std::array<char, 4096>> scratch, std::size_t drained) {
    auto* data = scratch->data();
    stream_.async_read_some(
        net::buffer(data, scratch->size()),
        [self = shared_from_this(), scratch = std::move(scratch), drained](beast::error_code ec, std::size_t n) mutable {
          if (!ec && drained + n < linger_max_bytes) self->drain(std::move(scratch), drained + n);
        });
  }

  beast::tcp_stream stream_;
};

class TlsHttpSession : public HttpSession<TlsHttpSession>, public std::enable_shared_from_this<TlsHttpSession> {
 public:
  TlsHttpSession(beast::tcp_stream&& stream, net::ssl::context& tls, SessionServices services,
                 std::string client_ip, ConnectionSlot slot)
      : HttpSession(services, std::move(client_ip), std::move(slot)),
        stream_(std::move(stream), tls),
        handshake_timeout_(services.limits.read_timeout) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::get_lowest_layer(self->stream_).expires_after(self->handshake_timeout_);
      self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
        if (!ec) self->do_read(true);
      });
    });
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::ssl_stream<beast::tcp_stream> release_stream() { return std::move(stream_); }
  void do_eof() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::chrono::seconds handshake_timeout_;
};

}  // namespace tether::http
