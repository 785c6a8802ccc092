#pragma once
// One byte stream, plain TCP or TLS over TCP, behind one type, so that the code above it is
// compiled once instead of once per transport and once per completion handler.
//
// Beast's HTTP and WebSocket algorithms are templates over the stream they run on, and the TLS
// stream's operations are templates over the handler they complete. Over `tcp_stream` and
// `ssl_stream<tcp_stream>` directly, one WebSocket session compiled into 35,000 functions and took
// two minutes a file. Through AnyStream the algorithms above it are instantiated over AnyStream
// only, and the TCP and TLS operations below it once each, in any_stream.cpp, over one
// type-erased handler (ErasedHandler below). The price is one small allocation per read or write,
// next to a system call.
//
// Invariants (Asio's and Beast's, kept by every user): at most one read and one write in flight;
// the deadlines of the TCP layer (`tcp().expires_after`) bound each read and write, TLS included.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <utility>

namespace tether {

// A completion handler behind one type: it runs the caller's handler on that handler's executor
// (or, for a handler with none, on the stream's), as the operation would have. Written here
// because Boost 1.81's asio::any_completion_handler cannot yet be posted (its executor does not
// take `blocking.never`), and Beast's teardown posts its handler.
template <class Signature>
class ErasedHandler;

template <class... Args>
class ErasedHandler<void(Args...)> {
 public:
  using executor_type = boost::asio::any_io_executor;

  template <class Handler>
  ErasedHandler(Handler&& handler, const executor_type& fallback)
      : executor_(boost::asio::get_associated_executor(handler, fallback)),
        call_(std::make_unique<Call<std::decay_t<Handler>>>(std::forward<Handler>(handler))) {}

  executor_type get_executor() const noexcept { return executor_; }

  void operator()(Args... args) {
    auto call = std::move(call_);  // called once; freed when the call returns
    call->invoke(std::forward<Args>(args)...);
  }

 private:
  struct CallBase {
    virtual ~CallBase() = default;
    virtual void invoke(Args... args) = 0;
  };
  template <class Handler>
  struct Call final : CallBase {
    explicit Call(Handler&& h) : handler(std::move(h)) {}
    explicit Call(const Handler& h) : handler(h) {}
    void invoke(Args... args) override { std::move(handler)(std::forward<Args>(args)...); }
    Handler handler;
  };

  executor_type executor_;
  std::unique_ptr<CallBase> call_;
};

class AnyStream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using IoHandler = ErasedHandler<void(boost::system::error_code, std::size_t)>;
  using DoneHandler = ErasedHandler<void(boost::system::error_code)>;

  // The buffers one write hands down: a prefix of the caller's sequence. A write may take fewer
  // bytes than offered, so offering a prefix keeps write_some's contract; 16 buffers cover every
  // HTTP message and WebSocket frame Beast writes (the TLS layer joins them into one record).
  class WriteBuffers {
   public:
    static constexpr std::size_t capacity = 16;
    template <class ConstBufferSequence>
    explicit WriteBuffers(const ConstBufferSequence& buffers) {
      for (auto it = boost::asio::buffer_sequence_begin(buffers), end = boost::asio::buffer_sequence_end(buffers);
           it != end && count_ < capacity; ++it) {
        boost::asio::const_buffer buffer(*it);
        if (buffer.size() > 0) items_[count_++] = buffer;
      }
    }
    const boost::asio::const_buffer* begin() const { return items_.data(); }
    const boost::asio::const_buffer* end() const { return items_.data() + count_; }

   private:
    std::array<boost::asio::const_buffer, capacity> items_{};
    std::size_t count_ = 0;
  };

  struct Impl;

  static AnyStream plain(boost::beast::tcp_stream stream);
  // TLS over `stream`; the handshake is still to be done (async_handshake).
  static AnyStream tls(boost::beast::tcp_stream stream, boost::asio::ssl::context& context);

  AnyStream(AnyStream&&) noexcept;
  AnyStream& operator=(AnyStream&&) noexcept;
  ~AnyStream();

  executor_type get_executor() noexcept;
  // The TCP layer: its deadlines, its socket.
  boost::beast::tcp_stream& tcp() noexcept;
  // The TLS layer, to set the server name and verification before the handshake; null when plain.
  TlsStream* tls_layer() noexcept;
  bool is_tls() const noexcept { return tls_layer_ != nullptr; }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, AnyStream* self, boost::asio::mutable_buffer buffer) {
          self->read_some(buffer, IoHandler(std::move(handler), self->get_executor()));
        },
        token, this, first_buffer(buffers));
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, AnyStream* self, const WriteBuffers& prefix) {
          self->write_some(prefix, IoHandler(std::move(handler), self->get_executor()));
        },
        token, this, WriteBuffers(buffers));
  }

  // The TLS handshake; a plain stream completes at once.
  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [](auto handler, AnyStream* self, boost::asio::ssl::stream_base::handshake_type kind) {
          self->handshake(kind, DoneHandler(std::move(handler), self->get_executor()));
        },
        token, this, type);
  }

  // Ends the TLS session (close_notify) or, when plain, shuts down the sending side.
  template <class Token>
  auto async_shutdown(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [](auto handler, AnyStream* self) { self->shutdown(DoneHandler(std::move(handler), self->get_executor())); },
        token, this);
  }

  // Beast's WebSocket closing handshake for this transport (found by argument lookup below).
  void teardown(boost::beast::role_type role, boost::system::error_code& ec);
  void async_teardown(boost::beast::role_type role, DoneHandler handler);

 private:
  explicit AnyStream(std::unique_ptr<Impl> impl);

  template <class MutableBufferSequence>
  static boost::asio::mutable_buffer first_buffer(const MutableBufferSequence& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers), end = boost::asio::buffer_sequence_end(buffers);
         it != end; ++it) {
      boost::asio::mutable_buffer buffer(*it);
      if (buffer.size() > 0) return buffer;
    }
    return {};
  }

  void read_some(boost::asio::mutable_buffer buffer, IoHandler handler);
  void write_some(const WriteBuffers& buffers, IoHandler handler);
  void handshake(boost::asio::ssl::stream_base::handshake_type type, DoneHandler handler);
  void shutdown(DoneHandler handler);

  std::unique_ptr<Impl> impl_;
  TlsStream* tls_layer_ = nullptr;
};

// Customisation points Beast finds by argument-dependent lookup.
void teardown(boost::beast::role_type role, AnyStream& stream, boost::system::error_code& ec);

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, AnyStream& stream, TeardownHandler&& handler) {
  stream.async_teardown(role, AnyStream::DoneHandler(std::forward<TeardownHandler>(handler), stream.get_executor()));
}

void beast_close_socket(AnyStream& stream);

}  // namespace tether
