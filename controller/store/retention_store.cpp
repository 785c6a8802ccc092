#include "controller/store/retention_store.hpp"

#include "controller/store/sql_text.hpp"

namespace tether::store::retention {
namespace {

constexpr const char* finished = "('completed', 'failed', 'timeout', 'canceled')";

// Deletes the operations whose ids are in `ids_json` (a JSON array), their deployment rows first
// (deployments reference operations without a cascade); output chunks go by cascade.
int delete_operations(pqxx::transaction_base& txn, const std::string& ids_json) {
  txn.exec_params(
      "DELETE FROM deployments WHERE operation_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)",
      ids_json);
  return static_cast<int>(
      txn.exec_params("DELETE FROM operations WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)",
                      ids_json)
          .affected_rows());
}

std::string ids_of(const pqxx::result& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row[0].as<std::string>());
  return to_json_array(ids);
}

}  // namespace

int prune_output(pqxx::transaction_base& txn, Clock::time_point before, int limit) {
  const auto doomed = txn.exec_params(
      std::string("SELECT id::text FROM operations WHERE NOT output_pruned AND completed_at IS NOT NULL "
                  "AND completed_at < " TETHER_SQL_AT("$1") " AND status IN ") +
          finished + " ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED",
      epoch_micros(before), limit);
  if (doomed.empty()) return 0;
  const auto ids = ids_of(doomed);
  txn.exec_params(
      "DELETE FROM operation_output WHERE operation_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)", ids);
  txn.exec_params(
      "UPDATE operations SET output_pruned = true WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)",
      ids);
  return static_cast<int>(doomed.size());
}

int prune_runs(pqxx::transaction_base& txn, Clock::time_point before, int limit, int& operations) {
  const auto doomed = txn.exec_params(
      "SELECT id::text FROM runs WHERE ended_at IS NOT NULL AND ended_at < " TETHER_SQL_AT("$1")
      " AND status IN ('completed', 'failed', 'canceled') ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED",
      epoch_micros(before), limit);
  if (doomed.empty()) return 0;
  const auto ids = ids_of(doomed);
  const auto ops = ids_of(txn.exec_params(
      "SELECT id::text FROM operations WHERE automation_run_id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)",
      ids));
  operations += delete_operations(txn, ops);
  return static_cast<int>(
      txn.exec_params("DELETE FROM runs WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::uuid)", ids)
          .affected_rows());
}

int prune_operations(pqxx::transaction_base& txn, Clock::time_point before, int limit) {
  const auto doomed = txn.exec_params(
      std::string("SELECT id::text FROM operations WHERE automation_run_id IS NULL AND completed_at IS NOT NULL "
                  "AND completed_at < " TETHER_SQL_AT("$1") " AND status IN ") +
          finished + " ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED",
      epoch_micros(before), limit);
  if (doomed.empty()) return 0;
  return delete_operations(txn, ids_of(doomed));
}

int prune_audit(pqxx::transaction_base& txn, Clock::time_point before, int limit) {
  return static_cast<int>(
      txn.exec_params("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < " TETHER_SQL_AT("$1")
                      " AND (last_at IS NULL OR last_at < " TETHER_SQL_AT("$1") ") ORDER BY at LIMIT $2)",
                      epoch_micros(before), limit)
          .affected_rows());
}

}  // namespace tether::store::retention
