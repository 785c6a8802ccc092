#include "tests/support/tcp_proxy.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace tether::testing {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// An abortive close (RST instead of FIN): what each end of a broken route ends up seeing.
void reset_socket(tcp::socket& socket) {
  if (!socket.is_open()) return;
  error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

// Whether `needle` occurs in `chunk` or straddles `recent` (the end of the previous chunks) and
// `chunk`. Keeps the last needle.size() - 1 bytes in `recent` for the next call.
bool contains_across(std::string& recent, std::string_view chunk, const std::string& needle) {
  recent.append(chunk);
  const bool found = recent.find(needle) != std::string::npos;
  const std::size_t keep = needle.empty() ? 0 : needle.size() - 1;
  if (recent.size() > keep) recent.erase(0, recent.size() - keep);
  return found;
}

}  // namespace

class TcpProxy::Impl {
 public:
  explicit Impl(std::uint16_t target_port)
      : acceptor_(io_, {asio::ip::address_v4::loopback(), 0}), target_(asio::ip::address_v4::loopback(), target_port) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    // No work guard: once the destructor has closed the acceptor and every socket, run() returns.
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    asio::post(io_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      cut_all();
    });
    thread_.join();
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::uint16_t port() const { return port_; }

  // Runs `action` on the relay's thread (which owns every socket and flag) and waits for it, so
  // that a control has taken effect when the test's call returns.
  template <class Action>
  void on_relay_thread(Action action) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    asio::post(io_, [action = std::move(action), done]() mutable {
      action();
      done->set_value();
    });
    if (finished.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      throw std::runtime_error("the TCP proxy's thread did not run a control within 10 s");
    }
  }

  void cut_all();
  void set_refusing(bool on) { refusing_ = on; }
  void set_blackholed(bool on);

  void arm(Direction direction, std::string needle, Tripwire action) {
    tripwire_ = ArmedTripwire{direction, std::move(needle), action};
  }

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> relayed{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> tripwires_fired{0};

 private:
  class Connection;

  struct ArmedTripwire {
    Direction direction;
    std::string needle;
    Tripwire action;
  };

  void accept() {
    acceptor_.async_accept([this](error_code error, tcp::socket socket) {
      if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!error) admit(std::move(socket));
      accept();
    });
  }

  void admit(tcp::socket socket);

  // One thread runs io_, so its handlers never run concurrently (an implicit strand): the state
  // below needs no lock, as long as the test's thread reaches it through on_relay_thread().
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  const tcp::endpoint target_;
  bool refusing_ = false;
  bool blackholed_ = false;
  std::optional<ArmedTripwire> tripwire_;
  // Strong references: a connection whose both directions are held back by the blackhole has no
  // pending operation to keep it alive.
  std::vector<std::shared_ptr<Connection>> connections_;
  std::thread thread_;
};

// One accepted client socket and its socket to the target, relaying both ways.
class TcpProxy::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& relay, tcp::socket client)
      : relay_(relay),
        client_(std::move(client)),
        target_(client_.get_executor()),
        upstream_(Direction::to_target, client_, target_),
        downstream_(Direction::to_client, target_, client_) {}

  void start() {
    // Each chunk leaves at once, so a tripwire's "deliver, then reset" puts the chunk on the wire
    // before the reset instead of leaving it in a send buffer that the reset discards.
    error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);
    target_.async_connect(relay_.target_, [self = shared_from_this()](error_code error) { self->on_connected(error); });
  }

  // Both sides see a reset.
  void reset() {
    reset_socket(client_);
    reset_socket(target_);
    mark_closed();
  }

  // The blackhole lifted: forward what each direction was holding back.
  void resume() {
    for (Flow* flow : {&upstream_, &downstream_}) {
      if (closed_ || !flow->held_back) continue;
      flow->held_back = false;
      on_read(*flow, flow->held_error, flow->held_bytes);
    }
  }

  bool closed() const { return closed_; }

 private:
  // One direction of the relay: what is read from `from` is written to `to`.
  struct Flow {
    Flow(Direction flow_direction, tcp::socket& source, tcp::socket& sink)
        : direction(flow_direction), from(source), to(sink) {}

    Direction direction;
    tcp::socket& from;
    tcp::socket& to;
    std::array<char, 16 * 1024> buffer{};
    // A read that completed while the path was silent, waiting for the blackhole to lift.
    bool held_back = false;
    std::size_t held_bytes = 0;
    error_code held_error;
    bool ended = false;       // end of stream seen and passed on
    std::string recent;       // the last bytes, for a tripwire needle split between two reads
  };

  void on_connected(const error_code& error) {
    if (closed_) return;
    if (error) return reset();  // the client sees the target's refusal as a reset
    error_code ignored;
    target_.set_option(tcp::no_delay(true), ignored);
    ++relay_.relayed;
    ++relay_.open;
    counted_open_ = true;
    read(upstream_);
    read(downstream_);
  }

  void read(Flow& flow) {
    flow.from.async_read_some(asio::buffer(flow.buffer), [self = shared_from_this(), &flow](error_code error,
                                                                                            std::size_t bytes) {
      if (self->closed_) return;
      if (self->relay_.blackholed_) {
        flow.held_back = true;
        flow.held_bytes = bytes;
        flow.held_error = error;
        return;
      }
      self->on_read(flow, error, bytes);
    });
  }

  void on_read(Flow& flow, const error_code& error, std::size_t bytes) {
    if (error) return end(flow, error);
    bool cut_after_write = false;
    auto& tripwire = relay_.tripwire_;
    if (tripwire && tripwire->direction == flow.direction) {
      if (contains_across(flow.recent, std::string_view(flow.buffer.data(), bytes), tripwire->needle)) {
        const Tripwire action = tripwire->action;
        tripwire.reset();
        ++relay_.tripwires_fired;
        if (action == Tripwire::cut_instead) return relay_.cut_all();
        cut_after_write = true;
      }
    }
    asio::async_write(flow.to, asio::buffer(flow.buffer.data(), bytes),
                      [self = shared_from_this(), &flow, cut_after_write](error_code write_error, std::size_t) {
                        if (self->closed_) return;
                        if (cut_after_write) return self->relay_.cut_all();
                        if (write_error) return self->reset();
                        self->read(flow);
                      });
  }

  // An orderly end of stream is passed on as one (FIN), so a WebSocket closing handshake still
  // completes; anything else (a reset, an error) resets both sides.
  void end(Flow& flow, const error_code& error) {
    if (error != asio::error::eof) return reset();
    error_code ignored;
    flow.to.shutdown(tcp::socket::shutdown_send, ignored);
    flow.ended = true;
    if (upstream_.ended && downstream_.ended) {
      client_.close(ignored);
      target_.close(ignored);
      mark_closed();
    }
  }

  void mark_closed() {
    closed_ = true;
    if (counted_open_) {
      counted_open_ = false;
      --relay_.open;
    }
  }

  Impl& relay_;
  tcp::socket client_;
  tcp::socket target_;
  Flow upstream_;
  Flow downstream_;
  bool closed_ = false;
  bool counted_open_ = false;
};

void TcpProxy::Impl::cut_all() {
  for (auto& connection : connections_) connection->reset();
  connections_.clear();
}

void TcpProxy::Impl::set_blackholed(bool on) {
  blackholed_ = on;
  if (on) return;
  // A copy: what a connection resumes may fire a tripwire, which empties connections_.
  const auto connections = connections_;
  for (const auto& connection : connections) connection->resume();
}

void TcpProxy::Impl::admit(tcp::socket socket) {
  ++accepted;
  if (refusing_) {
    ++refused;
    return reset_socket(socket);
  }
  std::erase_if(connections_, [](const auto& connection) { return connection->closed(); });
  auto connection = std::make_shared<Connection>(*this, std::move(socket));
  connections_.push_back(connection);
  connection->start();
}

TcpProxy::TcpProxy(std::uint16_t target_port) : impl_(std::make_unique<Impl>(target_port)) {}

TcpProxy::~TcpProxy() = default;

std::uint16_t TcpProxy::port() const { return impl_->port(); }

void TcpProxy::cut() {
  impl_->on_relay_thread([impl = impl_.get()] { impl->cut_all(); });
}

void TcpProxy::refuse(bool on) {
  impl_->on_relay_thread([impl = impl_.get(), on] { impl->set_refusing(on); });
}

void TcpProxy::blackhole(bool on) {
  impl_->on_relay_thread([impl = impl_.get(), on] { impl->set_blackholed(on); });
}

void TcpProxy::cut_when(Direction direction, std::string needle, Tripwire action) {
  if (needle.empty()) throw std::invalid_argument("a tripwire needs a non-empty needle");
  impl_->on_relay_thread(
      [impl = impl_.get(), direction, needle = std::move(needle), action]() mutable {
        impl->arm(direction, std::move(needle), action);
      });
}

std::uint64_t TcpProxy::tripwires_fired() const { return impl_->tripwires_fired; }
std::uint64_t TcpProxy::accepted() const { return impl_->accepted; }
std::uint64_t TcpProxy::refused() const { return impl_->refused; }
std::uint64_t TcpProxy::relayed() const { return impl_->relayed; }
std::uint64_t TcpProxy::open() const { return impl_->open; }

}  // namespace tether::testing
