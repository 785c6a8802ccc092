#include "controller/services/session_cleanup.hpp"

#include <spdlog/spdlog.h>

namespace tether::services {

automations::PassResult purge_expired_sessions(pqxx::connection& connection, Users& users) {
  pqxx::work txn(connection);
  const auto purged = users.purge_expired(txn);
  txn.commit();
  if (purged > 0) spdlog::info("event=sessions_purged count={}", purged);
  automations::PassResult result;
  result.metrics = {{"sessionsPurged", purged}};
  return result;
}

}  // namespace tether::services
