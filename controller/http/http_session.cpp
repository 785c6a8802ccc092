#include "controller/http/http_session.hpp"

#include "controller/http/responses.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace tether::http {
namespace {

// What the parser refuses as not HTTP/1.x: the client gets a 400 rather than a silent close.
bool malformed(const beast::error_code& ec) {
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
std::optional<std::string> unservable(const Request& request) {
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

// Large enough that a fast reader gets a live batch in one write (smaller slices cost a tenth
// of the throughput), small enough that a slow one finishes a slice well within the deadline.
constexpr std::size_t stream_slice_bytes = 256 * 1024;

// After a plain connection's last answer: how long, and how much, to read and drop (do_eof).
constexpr std::chrono::seconds linger_time{2};
constexpr std::size_t linger_max_bytes = 1024 * 1024;
constexpr std::chrono::seconds tls_shutdown_time{5};

}  // namespace

HttpSession::HttpSession(AnyStream stream, SessionServices services, std::string client_ip, ConnectionSlot slot)
    : stream_(std::move(stream)), services_(services), client_ip_(std::move(client_ip)), slot_(std::move(slot)) {}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->stream_.tcp().expires_after(self->services_.limits.read_timeout);
    self->stream_.async_handshake(net::ssl::stream_base::server, [self](beast::error_code ec) {
      if (!ec) self->do_read(true);
    });
  });
}

void HttpSession::deliver(Response response) {
  net::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)]() mutable {
    self->write_response(std::move(response));
  });
}

void HttpSession::deliver_event_stream(std::shared_ptr<StreamProducer> producer) {
  net::post(stream_.get_executor(), [self = shared_from_this(), producer = std::move(producer)]() mutable {
    self->start_event_stream(std::move(producer));
  });
}

void HttpSession::write(std::string data, std::function<void(bool)> done) {
  write_slice(std::make_shared<std::string>(std::move(data)), 0, std::move(done));
}

void HttpSession::finish() {
  auto on_written = [self = shared_from_this()](beast::error_code, std::size_t) {
    self->producer_.reset();
    self->do_eof();
  };
  stream_.tcp().expires_after(services_.limits.stream_stall_timeout);
  if (chunked_) {
    net::async_write(stream_, bhttp::make_chunk_last(), std::move(on_written));
  } else {
    net::post(stream_.get_executor(), [on_written = std::move(on_written)]() mutable { on_written({}, 0); });
  }
}

net::any_io_executor HttpSession::executor() { return stream_.get_executor(); }

void HttpSession::do_read(bool first) {
  parser_.emplace();
  parser_->body_limit(services_.limits.body_limit);
  parser_->header_limit(services_.limits.header_limit);
  stream_.tcp().expires_after(first ? services_.limits.read_timeout : services_.limits.idle_timeout);
  bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  head_ = false;
  if (ec == bhttp::error::end_of_stream) return do_eof();
  if (ec == bhttp::error::body_limit) return reject(bhttp::status::payload_too_large, "request body too large");
  if (ec == bhttp::error::header_limit) {
    return reject(bhttp::status::request_header_fields_too_large, "request headers too large");
  }
  if (malformed(ec)) return reject(bhttp::status::bad_request, "malformed request: " + ec.message());
  if (ec) return;  // timeout, reset, or the client left mid-request: no one to answer
  if (auto problem = unservable(parser_->get())) return reject(bhttp::status::bad_request, *problem);
  // The handler may take a while (a sync exec waits for its command): no read deadline meanwhile.
  stream_.tcp().expires_never();
  Request request = parser_->release();
  version_ = request.version();
  keep_alive_ = request.keep_alive();
  head_ = request.method() == bhttp::verb::head;
  if (beast::websocket::is_upgrade(request)) {
    std::string_view target = request.target();
    if (target.substr(0, target.find('?')) == "/api/agent/ws") {
      services_.agents.upgrade(std::move(stream_), std::move(request), client_ip_);
      return;
    }
  }
  RequestContext context{std::move(request), client_ip_, {}, Responder(shared_from_this())};
  services_.router.route(context);
}

void HttpSession::reject(bhttp::status status, const std::string& detail) {
  keep_alive_ = false;
  write_response(error_response(status, detail));
}

void HttpSession::write_response(Response response) {
  response.version(version_);
  response.keep_alive(keep_alive_);
  response.prepare_payload();
  auto shared = std::make_shared<Response>(std::move(response));
  stream_.tcp().expires_after(services_.limits.read_timeout);
  if (head_) {
    // The head GET would send, Content-Length included, and no body.
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::string_body>>(*shared);
    bhttp::async_write_header(stream_, *serializer,
                              [self = shared_from_this(), shared, serializer](beast::error_code ec, std::size_t) {
                                self->on_write(shared->keep_alive(), ec);
                              });
    return;
  }
  bhttp::async_write(stream_, *shared, [self = shared_from_this(), shared](beast::error_code ec, std::size_t) {
    self->on_write(shared->keep_alive(), ec);
  });
}

void HttpSession::write_slice(std::shared_ptr<std::string> data, std::size_t offset, std::function<void(bool)> done) {
  const auto size = std::min(stream_slice_bytes, data->size() - offset);
  const auto slice = net::buffer(data->data() + offset, size);
  auto on_written = [self = shared_from_this(), data, next = offset + size, done = std::move(done)](
                        beast::error_code ec, std::size_t) mutable {
    if (ec) {
      done(false);
      self->producer_.reset();
    } else if (next < data->size()) {
      self->write_slice(std::move(data), next, std::move(done));
    } else {
      done(true);
    }
  };
  stream_.tcp().expires_after(services_.limits.stream_stall_timeout);
  if (chunked_) {
    net::async_write(stream_, bhttp::make_chunk(slice), std::move(on_written));
  } else {
    net::async_write(stream_, slice, std::move(on_written));
  }
}

void HttpSession::start_event_stream(std::shared_ptr<StreamProducer> producer) {
  producer_ = std::move(producer);
  chunked_ = version_ >= 11;
  auto head = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::ok, version_);
  head->set(bhttp::field::content_type, "text/event-stream");
  head->set(bhttp::field::cache_control, "no-cache");
  head->set("X-Accel-Buffering", "no");  // a reverse proxy must pass events on as they come
  head->keep_alive(false);
  head->chunked(chunked_);
  auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*head);
  stream_.tcp().expires_after(services_.limits.stream_stall_timeout);
  bhttp::async_write_header(stream_, *serializer,
                            [self = shared_from_this(), head, serializer](beast::error_code ec, std::size_t) {
                              if (ec) return self->producer_.reset();
                              if (self->head_) {  // HEAD: the head is all there is
                                self->producer_.reset();
                                return self->do_eof();
                              }
                              self->producer_->start(self);
                            });
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec) {
  if (ec) return;
  if (!keep_alive) return do_eof();
  do_read(false);
}

void HttpSession::do_eof() {
  if (stream_.is_tls()) {
    stream_.tcp().expires_after(tls_shutdown_time);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
    return;
  }
  // Closing a socket with unread bytes makes the kernel reset the connection, and the reset can
  // destroy an answer the client has not read yet (a 400 or 413 sent before the whole request
  // was read). So after shutting down the sending side, read and drop what still comes until the
  // client closes too, for a moment.
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) {
    self->stream_.tcp().expires_after(linger_time);
    self->drain(std::make_shared<std::array<char, 4096>>(), 0);
  });
}

void HttpSession::drain(std::shared_ptr<std::array<char, 4096>> scratch, std::size_t drained) {
  auto* data = scratch->data();
  stream_.async_read_some(net::buffer(data, scratch->size()), [self = shared_from_this(), scratch = std::move(scratch),
                                                               drained](beast::error_code ec, std::size_t n) mutable {
    if (!ec && drained + n < linger_max_bytes) self->drain(std::move(scratch), drained + n);
  });
}

}  // namespace tether::http
