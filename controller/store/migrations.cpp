#include "controller/store/migrations.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace tether::store {
namespace {
// Arbitrary but fixed: every replica must contend for the same advisory lock.
constexpr long long migration_lock_key = 0x7e74686572;  // "tether"
}

int apply_migrations(pqxx::connection& connection, const std::vector<Migration>& migrations) {
  pqxx::work txn(connection);
  txn.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
  txn.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "  version integer PRIMARY KEY,"
      "  name text NOT NULL,"
      "  applied_at timestamptz NOT NULL DEFAULT now())");
  std::set<int> applied;
  for (const auto& row : txn.exec("SELECT version FROM schema_migrations")) applied.insert(row[0].as<int>());
  int count = 0;
  for (const auto& migration : migrations) {
    if (applied.count(migration.version)) continue;
    txn.exec(migration.sql);
    txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version,
                    migration.name);
    spdlog::info("event=migration_applied version={} name={}", migration.version, migration.name);
    ++count;
  }
  txn.commit();
  return count;
}

}  // namespace tether::store
