#include "tests/support/sse_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <cstring>
#include <deque>
#include <functional>
#include <stdexcept>

namespace tether::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The most the client takes from the socket ahead of what next() needs, for the raw bytes and
// for the dechunked body alike.
constexpr std::size_t kReadLimit = 64 * 1024;

// The request target without its query, which may hold a ?token= secret, for error messages.
std::string describe_target(const std::string& target) { return target.substr(0, target.find('?')); }

// Turns the bytes of an event stream into events, by the rules of "Interpreting an event stream"
// in the HTML standard: lines end with CRLF, LF or CR; an empty line dispatches the event; a line
// starting with ':' is a comment; the first ':' ends a field's name and one space after it is
// dropped. Bytes may arrive split anywhere, even between the CR and LF of one line end.
class EventStreamParser {
 public:
  void feed(std::string_view bytes) {
    while (!bytes.empty()) {
      if (after_cr_) {
        after_cr_ = false;
        if (bytes.front() == '\n') {
          bytes.remove_prefix(1);
          continue;
        }
      }
      const auto end = line_end(bytes);
      if (end == std::string_view::npos) {
        line_.append(bytes);
        return;
      }
      after_cr_ = bytes[end] == '\r';
      if (line_.empty()) {
        end_line(bytes.substr(0, end));  // the whole line is in this piece: no copy
      } else {
        line_.append(bytes.substr(0, end));
        end_line(line_);
        line_.clear();
      }
      bytes.remove_prefix(end + 1);
    }
  }

  bool has_event() const { return !ready_.empty(); }

  SseEvent take_event() {
    SseEvent event = std::move(ready_.front());
    ready_.pop_front();
    return event;
  }

 private:
  // The first CR or LF: memchr for each (searching for CR only before the LF), since output
  // events are long lines that a byte-by-byte scan would crawl through.
  static std::size_t line_end(std::string_view bytes) {
    const auto* lf = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    const std::size_t lf_at = lf ? static_cast<std::size_t>(lf - bytes.data()) : bytes.size();
    const auto* cr = static_cast<const char*>(std::memchr(bytes.data(), '\r', lf_at));
    if (cr) return static_cast<std::size_t>(cr - bytes.data());
    return lf ? lf_at : std::string_view::npos;
  }

  void end_line(std::string_view line) {
    if (first_line_) {
      first_line_ = false;
      constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";
      if (line.substr(0, byte_order_mark.size()) == byte_order_mark) line.remove_prefix(byte_order_mark.size());
    }
    if (line.empty()) {
      dispatch();
    } else if (line.front() != ':') {
      process_field(line);
    }
  }

  void process_field(std::string_view line) {
    const auto colon = line.find(':');
    const auto name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "event") {
      event_type_ = value;
    } else if (name == "data") {
      data_.append(value);
      data_.push_back('\n');
    } else if (name == "id") {
      if (value.find('\0') == std::string_view::npos) id_ = value;
    }
    // "retry" and unknown fields mean nothing to a test reader.
  }

  void dispatch() {
    // An event without data is not dispatched (the standard's rule), only forgotten.
    if (!data_.empty()) {
      data_.pop_back();  // the last line's "\n"
      ready_.push_back(
          SseEvent{.id = std::move(id_), .event = event_type_.empty() ? "message" : std::move(event_type_),
                   .data = std::move(data_)});
    }
    id_.clear();
    event_type_.clear();
    data_.clear();
  }

  std::string line_;
  bool after_cr_ = false;
  bool first_line_ = true;
  std::string id_, event_type_, data_;
  std::deque<SseEvent> ready_;
};

bool is_end_of_stream(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset;
}

}  // namespace

class SseClient::Impl {
 public:
  Impl(const SseRequest& request, std::chrono::milliseconds connect_timeout)
      : target_(describe_target(request.target)) {
    parser_.body_limit(boost::none);  // a stream is as long as the operation's output
    connect(request, connect_timeout);
    send(request, connect_timeout);
    read_head(connect_timeout);
    if (status() != 200) read_error_body(Clock::now() + connect_timeout);
  }

  int status() const { return static_cast<int>(parser_.get().result_int()); }

  std::string header(std::string_view name) const { return std::string(parser_.get()[name]); }

  const std::string& error_body() const { return error_body_; }

  std::uint64_t body_bytes() const { return body_bytes_; }

  std::optional<SseEvent> next(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!events_.has_event()) {
      if (ended_) return std::nullopt;
      const auto bytes = read_body_some(deadline);
      if (!bytes) {
        throw std::runtime_error(
            fmt::format("no event from {} within {} ms ({} body bytes so far)", target_, timeout.count(), body_bytes_));
      }
      events_.feed(*bytes);
    }
    return events_.take_event();
  }

  void close() {
    ended_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  // Runs the io_context until the operation started before the call sets `done`, or until
  // `deadline`; then `cancel` aborts the operation, whose handler still runs (with
  // operation_aborted, unless it had just completed anyway).
  void run_until(const bool& done, Clock::time_point deadline, const std::function<void()>& cancel) {
    io_.restart();
    const auto now = Clock::now();
    if (deadline > now) io_.run_for(deadline - now);
    if (done) return;
    cancel();
    io_.restart();
    io_.run();
  }

  void cancel_socket() {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }

  static std::string describe(const boost::system::error_code& error) {
    return error == asio::error::operation_aborted ? "timed out" : error.message();
  }

  void connect(const SseRequest& request, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    tcp::resolver resolver(io_);
    bool done = false;
    boost::system::error_code error;
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(request.host, std::to_string(request.port),
                           [&](const boost::system::error_code& ec, tcp::resolver::results_type results) {
                             done = true;
                             error = ec;
                             endpoints = std::move(results);
                           });
    run_until(done, deadline, [&] { resolver.cancel(); });
    if (error) throw std::runtime_error(fmt::format("cannot resolve {}: {}", request.host, describe(error)));
    done = false;
    asio::async_connect(socket_, endpoints, [&](const boost::system::error_code& ec, const tcp::endpoint&) {
      done = true;
      error = ec;
    });
    run_until(done, deadline, [&] { cancel_socket(); });
    if (error) {
      throw std::runtime_error(fmt::format("cannot connect to {}:{}: {}", request.host, request.port, describe(error)));
    }
    socket_.set_option(tcp::no_delay(true));
    socket_.non_blocking(true);
  }

  void send(const SseRequest& request, std::chrono::milliseconds timeout) {
    bhttp::request<bhttp::empty_body> message{bhttp::verb::get, request.target, 11};
    message.set(bhttp::field::host, fmt::format("{}:{}", request.host, request.port));
    message.set(bhttp::field::accept, "text/event-stream");
    for (const auto& [name, value] : request.headers) message.set(name, value);
    bool done = false;
    boost::system::error_code error;
    bhttp::async_write(socket_, message, [&](const boost::system::error_code& ec, std::size_t) {
      done = true;
      error = ec;
    });
    run_until(done, Clock::now() + timeout, [&] { cancel_socket(); });
    if (error) throw std::runtime_error(fmt::format("cannot send GET {}: {}", target_, describe(error)));
  }

  void read_head(std::chrono::milliseconds timeout) {
    bool done = false;
    boost::system::error_code error;
    bhttp::async_read_header(socket_, raw_, parser_, [&](const boost::system::error_code& ec, std::size_t) {
      done = true;
      error = ec;
    });
    run_until(done, Clock::now() + timeout, [&] { cancel_socket(); });
    if (error) {
      throw std::runtime_error(fmt::format("reading the response head of GET {} (limit {} ms): {}", target_,
                                           timeout.count(), describe(error)));
    }
  }

  void read_error_body(Clock::time_point deadline) {
    while (!ended_) {
      const auto bytes = read_body_some(deadline);
      if (!bytes) throw std::runtime_error(fmt::format("the body of HTTP {} from GET {} timed out", status(), target_));
      error_body_.append(*bytes);
    }
  }

  // Reads what the socket has of the body, at most kReadLimit bytes, and returns them (possibly
  // none: a chunk header alone carries no body). nullopt when nothing came before `deadline`.
  // Sets ended_ once the body is complete or the server closed the connection.
  std::optional<std::string_view> read_body_some(Clock::time_point deadline) {
    auto& body = parser_.get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    // What the socket holds already is taken at once (it is non-blocking), which saves a round
    // through the io_context per read on a busy stream; only an empty socket is waited for.
    boost::system::error_code error;
    bhttp::read_some(socket_, raw_, parser_, error);
    if (error == asio::error::would_block) {
      error = {};
      if (body.size == chunk_.size()) {
        bool done = false;
        bhttp::async_read_some(socket_, raw_, parser_, [&](const boost::system::error_code& ec, std::size_t) {
          done = true;
          error = ec;
        });
        run_until(done, deadline, [&] { cancel_socket(); });
      }
    }
    const std::size_t received = chunk_.size() - body.size;
    body_bytes_ += received;
    if (error == asio::error::operation_aborted) {
      // Timed out. (Bytes parsed before the wait, if any, are still returned.)
      if (received == 0) return std::nullopt;
      error = {};
    }
    if (error == bhttp::error::need_buffer) error = {};
    if (is_end_of_stream(error) || parser_.is_done()) {
      ended_ = true;
    } else if (error) {
      throw std::runtime_error(fmt::format("reading the stream of GET {}: {}", target_, error.message()));
    }
    return std::string_view(chunk_.data(), received);
  }

  const std::string target_;
  asio::io_context io_{1};
  tcp::socket socket_{io_};
  beast::flat_buffer raw_{kReadLimit};
  bhttp::response_parser<bhttp::buffer_body> parser_;
  std::vector<char> chunk_ = std::vector<char>(kReadLimit);
  EventStreamParser events_;
  std::string error_body_;
  std::uint64_t body_bytes_ = 0;
  bool ended_ = false;
};

SseClient::SseClient(const SseRequest& request, std::chrono::milliseconds connect_timeout)
    : impl_(std::make_unique<Impl>(request, connect_timeout)) {}

SseClient::~SseClient() = default;

int SseClient::status() const { return impl_->status(); }

std::string SseClient::header(std::string_view name) const { return impl_->header(name); }

const std::string& SseClient::error_body() const { return impl_->error_body(); }

std::optional<SseEvent> SseClient::next(std::chrono::milliseconds timeout) { return impl_->next(timeout); }

void SseClient::close() { impl_->close(); }

std::uint64_t SseClient::body_bytes() const { return impl_->body_bytes(); }

}  // namespace tether::testing
