#include "controller/services/session_cleanup.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace tether::services {

SessionCleanup::SessionCleanup(boost::asio::io_context& io, store::DbPool& db, Users& users,
                               std::chrono::milliseconds period)
    : db_(db), users_(users), period_(period), timer_(boost::asio::make_strand(io)) {}

void SessionCleanup::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->schedule(); });
}

void SessionCleanup::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void SessionCleanup::schedule() {
  if (stopped_) return;
  timer_.expires_after(period_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->run_once();
  });
}

void SessionCleanup::run_once() {
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        pqxx::work txn(connection);
        const auto purged = self->users_.purge_expired(txn);
        txn.commit();
        if (purged > 0) spdlog::info("event=sessions_purged count={}", purged);
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule(); });
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=session_cleanup_failed error=\"{}\"", e.what());
        }
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule(); });
      });
}

}  // namespace tether::services
