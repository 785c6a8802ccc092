#include "controller/store/audit_store.hpp"

namespace tether::store::audit {

void record(pqxx::transaction_base& txn, const Entry& entry) {
  txn.exec_params(
      "INSERT INTO audit_log (actor, action, target, client_ip, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
      entry.actor, entry.action, entry.target, entry.client_ip, entry.outcome, entry.detail_json);
}

}  // namespace tether::store::audit
