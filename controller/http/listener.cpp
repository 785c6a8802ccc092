#include "controller/http/listener.hpp"

#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace tether::http {

Listener::Listener(net::io_context& io, const net::ip::tcp::endpoint& endpoint, net::ssl::context* tls,
                   SessionServices services)
    : io_(io), acceptor_(net::make_strand(io)), tls_(tls), services_(services) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
}

void Listener::run() { do_accept(); }

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->acceptor_.close(ec);
  });
}

void Listener::do_accept() {
  acceptor_.async_accept(net::make_strand(io_), beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, net::ip::tcp::socket socket) {
  if (ec == net::error::operation_aborted) return;
  if (ec) {
    spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
  } else {
    beast::error_code ignored;
    socket.set_option(net::ip::tcp::no_delay(true), ignored);
    auto peer = socket.remote_endpoint(ignored);
    std::string client_ip = ignored ? std::string() : peer.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    if (tls_) {
      std::make_shared<TlsHttpSession>(std::move(stream), *tls_, services_, std::move(client_ip))->run();
    } else {
      std::make_shared<PlainHttpSession>(std::move(stream), services_, std::move(client_ip))->run();
    }
  }
  do_accept();
}

}  // namespace tether::http
