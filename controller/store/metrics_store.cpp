#include "controller/store/metrics_store.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::metrics {
namespace {

std::map<std::string, std::int64_t> counts(const pqxx::result& rows) {
  std::map<std::string, std::int64_t> out;
  for (const auto& row : rows) out[row[0].as<std::string>()] = row[1].as<std::int64_t>();
  return out;
}

}  // namespace

std::map<std::string, std::int64_t> servers_by_status(pqxx::transaction_base& txn) {
  return counts(exec_cached(txn, "metrics_servers_by_status", "SELECT status, count(*) FROM servers GROUP BY status"));
}

std::map<std::string, std::int64_t> runs_by_status(pqxx::transaction_base& txn) {
  return counts(exec_cached(txn, "metrics_runs_by_status", "SELECT status, count(*) FROM runs GROUP BY status"));
}

std::vector<EndedOperation> ended_operations(pqxx::transaction_base& txn, const std::vector<std::string>& ids) {
  std::vector<EndedOperation> out;
  if (ids.empty()) return out;
  const auto rows = exec_cached(
      txn, "metrics_ended_operations",
      "SELECT type, status, duration_ms FROM operations "
      "WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::uuid)) "
      "AND status IN ('completed', 'failed', 'timeout', 'canceled')",
      to_json_array(ids));
  for (const auto& row : rows) {
    EndedOperation ended{row[0].as<std::string>(), row[1].as<std::string>(), std::nullopt};
    if (!row[2].is_null()) ended.duration = std::chrono::milliseconds(row[2].as<std::int64_t>());
    out.push_back(std::move(ended));
  }
  return out;
}

}  // namespace tether::store::metrics
