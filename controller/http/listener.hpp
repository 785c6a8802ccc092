#pragma once
// Accepts TCP connections and starts a plain or TLS session for each (TLS when a context is given).
// Keeps the connection caps (connection_limits.hpp): a connection over a cap is closed as soon as
// it is accepted, without an answer, since answering would cost the reads, writes (and TLS
// handshake) the cap is there to spare. When accept itself fails (EMFILE: out of file
// descriptors), it waits before trying again, 10 ms doubling up to 1 s, instead of spinning on a
// listening socket that stays readable; such failures and refusals are logged at most every 10 s.
#include "controller/http/connection_limits.hpp"
#include "controller/http/http_session.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace tether::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Throws boost::system::system_error when the address cannot be bound.
  Listener(net::io_context& io, const net::ip::tcp::endpoint& endpoint, net::ssl::context* tls,
           SessionServices services, ConnectionLimits limits = {});
  void run();
  net::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void stop();

 private:
  void do_accept();
  void on_accept(beast::error_code ec, net::ip::tcp::socket socket);
  void on_accept_error(const beast::error_code& ec);
  void refuse(net::ip::tcp::socket& socket, const net::ip::address& address, ConnectionCounter::Refusal refusal);

  static constexpr std::chrono::milliseconds first_retry_delay{10};
  static constexpr std::chrono::milliseconds longest_retry_delay{1000};
  static constexpr std::chrono::seconds log_interval{10};

  net::io_context& io_;
  net::ip::tcp::acceptor acceptor_;
  net::ssl::context* tls_;
  SessionServices services_;
  std::shared_ptr<ConnectionCounter> connections_;
  // The rest is used on the acceptor's strand only.
  net::steady_timer retry_timer_;
  bool stopped_ = false;
  std::chrono::milliseconds retry_delay_{0};
  std::uint64_t accept_failures_ = 0;  // since the last successful accept
  std::chrono::steady_clock::time_point last_failure_log_;
  std::uint64_t refused_since_log_ = 0;
  std::chrono::steady_clock::time_point last_refusal_log_;
};

}  // namespace tether::http
