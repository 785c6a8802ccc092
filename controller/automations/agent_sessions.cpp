#include "controller/automations/agent_sessions.hpp"

#include "controller/store/system_automation_store.hpp"

#include <spdlog/spdlog.h>

namespace tether::automations {

PassResult reconcile_agent_sessions(pqxx::connection& connection, dispatch::Dispatcher& dispatcher,
                                    const std::string& instance) {
  const auto held = dispatcher.connected_servers();
  pqxx::work txn(connection);
  const auto outcome = store::system_automations::reconcile_sessions(txn, instance, held, 5);
  txn.commit();
  spdlog::info("event=agent_sessions_reconciled instance={} held={} dropped={} claimed={}", instance, outcome.held,
               outcome.dropped, outcome.claimed);
  PassResult result;
  result.metrics = {{"sessionsHeld", outcome.held},
                    {"sessionsDropped", outcome.dropped},
                    {"sessionsClaimed", outcome.claimed},
                    {"sessionsReconciled", outcome.dropped + outcome.claimed}};
  return result;
}

}  // namespace tether::automations
