#include "controller/http/listener.hpp"

#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tether::http {

Listener::Listener(net::io_context& io, const net::ip::tcp::endpoint& endpoint, net::ssl::context* tls,
                   SessionServices services, ConnectionLimits limits)
    : io_(io),
      acceptor_(net::make_strand(io)),
      tls_(tls),
      services_(services),
      connections_(std::make_shared<ConnectionCounter>(std::move(limits))),
      retry_timer_(acceptor_.get_executor()),
      last_refusal_log_(std::chrono::steady_clock::now() - log_interval) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
}

void Listener::run() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->retry_timer_.cancel();
    beast::error_code ec;
    self->acceptor_.close(ec);
  });
}

void Listener::do_accept() {
  if (stopped_) return;
  acceptor_.async_accept(net::make_strand(io_), beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, net::ip::tcp::socket socket) {
  if (ec == net::error::operation_aborted || stopped_) return;
  if (ec) return on_accept_error(ec);
  if (accept_failures_ > 0) {
    spdlog::info("event=accept_recovered failures={}", accept_failures_);
    accept_failures_ = 0;
    retry_delay_ = std::chrono::milliseconds(0);
  }
  beast::error_code ignored;
  const auto peer = socket.remote_endpoint(ignored);
  if (ignored) return do_accept();  // the client is already gone; the socket closes here
  auto admission = connections_->admit(peer.address());
  if (!admission.slot) {
    refuse(socket, peer.address(), admission.refusal);
    return do_accept();
  }
  socket.set_option(net::ip::tcp::no_delay(true), ignored);
  std::string client_ip = peer.address().to_string();
  beast::tcp_stream tcp(std::move(socket));
  auto stream = tls_ ? AnyStream::tls(std::move(tcp), *tls_) : AnyStream::plain(std::move(tcp));
  std::make_shared<HttpSession>(std::move(stream), services_, std::move(client_ip), std::move(*admission.slot))->run();
  do_accept();
}

void Listener::on_accept_error(const beast::error_code& ec) {
  ++accept_failures_;
  retry_delay_ = retry_delay_.count() == 0 ? first_retry_delay : std::min(retry_delay_ * 2, longest_retry_delay);
  const auto now = std::chrono::steady_clock::now();
  if (accept_failures_ == 1 || now - last_failure_log_ >= log_interval) {
    last_failure_log_ = now;
    spdlog::warn("event=accept_failed error=\"{}\" failures={} retry_in_ms={} connections={}", ec.message(),
                 accept_failures_, retry_delay_.count(), connections_->total());
  }
  retry_timer_.expires_after(retry_delay_);
  retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_error) {
    if (!wait_error) self->do_accept();
  });
}

void Listener::refuse(net::ip::tcp::socket& socket, const net::ip::address& address,
                      ConnectionCounter::Refusal refusal) {
  beast::error_code ignored;
  socket.close(ignored);
  ++refused_since_log_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= log_interval) {
    spdlog::warn("event=connection_refused reason={} client_ip={} refused={} connections={}", to_string(refusal),
                 address.to_string(), refused_since_log_, connections_->total());
    last_refusal_log_ = now;
    refused_since_log_ = 0;
  }
}

}  // namespace tether::http
