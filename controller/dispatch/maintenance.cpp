#include "controller/dispatch/maintenance.hpp"

#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace tether::dispatch {

Maintenance::Maintenance(boost::asio::io_context& io, Dispatcher& dispatcher, MaintenanceSettings settings)
    : dispatcher_(dispatcher), settings_(settings), timer_(boost::asio::make_strand(io)) {}

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
  const auto connected = dispatcher_.connected_servers();
  dispatcher_.db().submit(
      [self, connected](pqxx::connection& connection) {
        auto& dispatcher = self->dispatcher_;
        std::vector<proto::Dispatch> to_send;
        std::vector<std::string> to_send_servers;
        std::vector<std::string> ended;
        {
          pqxx::work txn(connection);
          for (auto& id : store::operations::fail_expired_queued(txn)) ended.push_back(std::move(id));
          for (auto& id : store::operations::time_out_overdue_reboots(txn)) ended.push_back(std::move(id));
          for (auto& id : store::operations::fail_overdue_unconnected(txn, self->settings_.overdue_grace_seconds)) {
            ended.push_back(std::move(id));
          }
          for (const auto& id : store::servers::mark_silent_unreachable(txn, self->settings_.unreachable_after_seconds)) {
            spdlog::warn("event=server_unreachable server_id={}", id);
          }
          // Operations queued while their agent was connecting (the hello's own sweep can miss them).
          for (const auto& server_id : connected) {
            for (const auto& id : store::operations::queued_for_server(txn, server_id)) {
              auto record = store::operations::find(txn, id, false);
              auto dispatch = record ? dispatcher.redelivery(*record) : std::nullopt;
              if (!dispatch) continue;  // left to fail at its deadline
              store::operations::mark_dispatched(txn, id);
              to_send.push_back(std::move(*dispatch));
              to_send_servers.push_back(server_id);
            }
          }
          txn.commit();
        }
        for (std::size_t i = 0; i < to_send.size(); ++i) dispatcher.send(to_send_servers[i], to_send[i]);
        pqxx::nontransaction read(connection);
        for (const auto& id : ended) {
          spdlog::warn("event=operation_failed_by_deadline operation_id={}", id);
          dispatcher.forget(id);
          if (auto record = ended_record_for_waiters(read, dispatcher.waiters(), id)) {
            dispatcher.waiters().notify(*record);
          }
        }
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

}  // namespace tether::dispatch
