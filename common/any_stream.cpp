#include "common/any_stream.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace tether {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

// The one place the TCP and TLS operations are instantiated: each over the erased handlers only.
struct AnyStream::Impl {
  virtual ~Impl() = default;
  virtual beast::tcp_stream& tcp() = 0;
  virtual void read_some(asio::mutable_buffer buffer, IoHandler handler) = 0;
  virtual void write_some(const WriteBuffers& buffers, IoHandler handler) = 0;
  virtual void handshake(asio::ssl::stream_base::handshake_type type, DoneHandler handler) = 0;
  virtual void shutdown(DoneHandler handler) = 0;
  virtual void teardown(beast::role_type role, error_code& ec) = 0;
  virtual void async_teardown(beast::role_type role, DoneHandler handler) = 0;
};

namespace {

// Completes `handler` through its own executor, never inside the call that started it.
void complete_later(beast::tcp_stream& tcp, AnyStream::DoneHandler handler, error_code ec) {
  asio::post(tcp.get_executor(), beast::bind_front_handler(std::move(handler), ec));
}

class PlainImpl final : public AnyStream::Impl {
 public:
  explicit PlainImpl(beast::tcp_stream stream) : stream_(std::move(stream)) {}

  beast::tcp_stream& tcp() override { return stream_; }
  void read_some(asio::mutable_buffer buffer, AnyStream::IoHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void write_some(const AnyStream::WriteBuffers& buffers, AnyStream::IoHandler handler) override {
    stream_.async_write_some(buffers, std::move(handler));
  }
  void handshake(asio::ssl::stream_base::handshake_type, AnyStream::DoneHandler handler) override {
    complete_later(stream_, std::move(handler), {});
  }
  void shutdown(AnyStream::DoneHandler handler) override {
    error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    complete_later(stream_, std::move(handler), ec);
  }
  // Beast's own teardown of each layer, found by argument-dependent lookup as Beast finds it.
  void teardown(beast::role_type role, error_code& ec) override {
    using beast::websocket::teardown;
    teardown(role, stream_.socket(), ec);
  }
  void async_teardown(beast::role_type role, AnyStream::DoneHandler handler) override {
    using beast::websocket::async_teardown;
    async_teardown(role, stream_, std::move(handler));
  }

 private:
  beast::tcp_stream stream_;
};

class TlsImpl final : public AnyStream::Impl {
 public:
  TlsImpl(beast::tcp_stream stream, asio::ssl::context& context) : stream_(std::move(stream), context) {}

  AnyStream::TlsStream& tls() { return stream_; }
  beast::tcp_stream& tcp() override { return beast::get_lowest_layer(stream_); }
  void read_some(asio::mutable_buffer buffer, AnyStream::IoHandler handler) override {
    stream_.async_read_some(buffer, std::move(handler));
  }
  void write_some(const AnyStream::WriteBuffers& buffers, AnyStream::IoHandler handler) override {
    stream_.async_write_some(buffers, std::move(handler));
  }
  void handshake(asio::ssl::stream_base::handshake_type type, AnyStream::DoneHandler handler) override {
    stream_.async_handshake(type, std::move(handler));
  }
  void shutdown(AnyStream::DoneHandler handler) override { stream_.async_shutdown(std::move(handler)); }
  void teardown(beast::role_type role, error_code& ec) override {
    using beast::websocket::teardown;
    teardown(role, stream_, ec);
  }
  void async_teardown(beast::role_type role, AnyStream::DoneHandler handler) override {
    using beast::websocket::async_teardown;
    async_teardown(role, stream_, std::move(handler));
  }

 private:
  AnyStream::TlsStream stream_;
};

}  // namespace

AnyStream AnyStream::plain(beast::tcp_stream stream) {
  return AnyStream(std::make_unique<PlainImpl>(std::move(stream)));
}

AnyStream AnyStream::tls(beast::tcp_stream stream, asio::ssl::context& context) {
  auto impl = std::make_unique<TlsImpl>(std::move(stream), context);
  auto* layer = &impl->tls();
  AnyStream result(std::move(impl));
  result.tls_layer_ = layer;
  return result;
}

AnyStream::AnyStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AnyStream::AnyStream(AnyStream&& other) noexcept
    : impl_(std::move(other.impl_)), tls_layer_(std::exchange(other.tls_layer_, nullptr)) {}
AnyStream& AnyStream::operator=(AnyStream&& other) noexcept {
  impl_ = std::move(other.impl_);
  tls_layer_ = std::exchange(other.tls_layer_, nullptr);
  return *this;
}
AnyStream::~AnyStream() = default;

AnyStream::executor_type AnyStream::get_executor() noexcept { return impl_->tcp().get_executor(); }
beast::tcp_stream& AnyStream::tcp() noexcept { return impl_->tcp(); }
AnyStream::TlsStream* AnyStream::tls_layer() noexcept { return tls_layer_; }

void AnyStream::read_some(asio::mutable_buffer buffer, IoHandler handler) { impl_->read_some(buffer, std::move(handler)); }
void AnyStream::write_some(const WriteBuffers& buffers, IoHandler handler) {
  impl_->write_some(buffers, std::move(handler));
}
void AnyStream::handshake(asio::ssl::stream_base::handshake_type type, DoneHandler handler) {
  impl_->handshake(type, std::move(handler));
}
void AnyStream::shutdown(DoneHandler handler) { impl_->shutdown(std::move(handler)); }
void AnyStream::teardown(beast::role_type role, error_code& ec) { impl_->teardown(role, ec); }
void AnyStream::async_teardown(beast::role_type role, DoneHandler handler) {
  impl_->async_teardown(role, std::move(handler));
}

void teardown(beast::role_type role, AnyStream& stream, error_code& ec) { stream.teardown(role, ec); }

void beast_close_socket(AnyStream& stream) {
  error_code ignored;
  stream.tcp().socket().close(ignored);
}

}  // namespace tether
