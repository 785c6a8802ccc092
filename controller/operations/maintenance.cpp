#include "controller/operations/maintenance.hpp"

#include "controller/store/server_store.hpp"

#include <spdlog/spdlog.h>

namespace tether::operations {

automations::PassResult reap_operations(pqxx::connection& connection, Lifecycle& lifecycle, int overdue_grace_seconds) {
  const auto connected = lifecycle.dispatcher().connected_servers();
  Lifecycle::Sweep sweep;
  {
    pqxx::work txn(connection);
    sweep = lifecycle.sweep(txn, connected, overdue_grace_seconds);
    txn.commit();
  }
  automations::PassResult result;
  result.metrics = {{"operationsEnded", sweep.ended.size()},
                    {"queuedDispatched", sweep.to_send.size()},
                    {"connectedAgents", connected.size()}};
  lifecycle.send_all(sweep.to_send);
  lifecycle.end(connection, std::move(sweep.ended));
  return result;
}

automations::PassResult mark_silent_servers(pqxx::connection& connection, int unreachable_after_seconds) {
  pqxx::work txn(connection);
  const auto marked = store::servers::mark_silent_unreachable(txn, unreachable_after_seconds);
  txn.commit();
  for (const auto& id : marked) spdlog::warn("event=server_unreachable server_id={}", id);
  automations::PassResult result;
  result.metrics = {{"serversMarkedUnreachable", marked.size()}};
  return result;
}

}  // namespace tether::operations
