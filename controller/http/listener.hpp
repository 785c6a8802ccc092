#pragma once
// Accepts TCP connections and starts a plain or TLS session for each (TLS when a context is given).
#include "controller/http/http_session.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace tether::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Throws boost::system::system_error when the address cannot be bound.
  Listener(net::io_context& io, const net::ip::tcp::endpoint& endpoint, net::ssl::context* tls,
           SessionServices services);
  void run();
  net::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void stop();

 private:
  void do_accept();
  void on_accept(beast::error_code ec, net::ip::tcp::socket socket);

  net::io_context& io_;
  net::ip::tcp::acceptor acceptor_;
  net::ssl::context* tls_;
  SessionServices services_;
};

}  // namespace tether::http
