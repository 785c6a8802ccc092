#pragma once
// The database's part of the health check: one round trip on a pool connection, so that the
// answer says whether PostgreSQL answers now, not whether it answered at start-up.
#include <pqxx/pqxx>

namespace tether::store::health {

// Throws whatever the connection throws when PostgreSQL does not answer.
void ping(pqxx::connection& connection);

}  // namespace tether::store::health
