#include "controller/operations/maintenance.hpp"

#include "controller/store/server_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace tether::operations {

Maintenance::Maintenance(boost::asio::io_context& io, Lifecycle& lifecycle, MaintenanceSettings settings)
    : lifecycle_(lifecycle), settings_(settings), timer_(boost::asio::make_strand(io)) {}

void Maintenance::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->schedule(); });
}

void Maintenance::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void Maintenance::schedule() {
  if (stopped_) return;
  timer_.expires_after(settings_.period);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->run_once();
  });
}

void Maintenance::run_once() {
  auto self = shared_from_this();
  const auto connected = lifecycle_.dispatcher().connected_servers();
  lifecycle_.dispatcher().db().submit(
      [self, connected](pqxx::connection& connection) {
        Lifecycle::Sweep sweep;
        {
          pqxx::work txn(connection);
          sweep = self->lifecycle_.sweep(txn, connected, self->settings_.overdue_grace_seconds);
          for (const auto& id : store::servers::mark_silent_unreachable(txn, self->settings_.unreachable_after_seconds)) {
            spdlog::warn("event=server_unreachable server_id={}", id);
          }
          txn.commit();
        }
        self->lifecycle_.send_all(sweep.to_send);
        self->lifecycle_.end(connection, std::move(sweep.ended));
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule(); });
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=maintenance_failed error=\"{}\"", e.what());
        }
        boost::asio::post(self->timer_.get_executor(), [self] { self->schedule(); });
      });
}

}  // namespace tether::operations
