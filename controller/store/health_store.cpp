#include "controller/store/health_store.hpp"

namespace tether::store::health {

void ping(pqxx::connection& connection) {
  pqxx::nontransaction txn(connection);
  txn.exec("SELECT 1");
}

}  // namespace tether::store::health
