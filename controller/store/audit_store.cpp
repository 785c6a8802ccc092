#include "controller/store/audit_store.hpp"

#include "controller/store/keyed_page.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::audit {

void record(pqxx::transaction_base& txn, const Entry& entry) {
  exec_cached(txn, "insert_audit",
      "INSERT INTO audit_log (actor, action, target, client_ip, outcome, detail, key_id, server_id, operation_id, "
      "run_id, status_code) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::uuid, $8::uuid, $9::uuid, $10, $11)",
      entry.actor, entry.action, entry.target, entry.client_ip, entry.outcome, entry.detail_json, entry.key_id,
      entry.server_id, entry.operation_id, entry.run_id, entry.status_code);
}

void record_authentication_failure(pqxx::transaction_base& txn, const AuthFailure& failure) {
  exec_cached(txn, "upsert_audit_auth_failure",
      "INSERT INTO audit_log (actor, action, client_ip, outcome, detail, status_code, claimed_server_id, "
      "claimed_run_id, failures, last_at, aggregate_key) "
      "VALUES ('anonymous', 'auth.failed', $1, 'denied', $2::jsonb, $3, $4, $5, 1, now(), $6) "
      "ON CONFLICT (aggregate_key) WHERE aggregate_key IS NOT NULL DO UPDATE "
      "SET failures = audit_log.failures + 1, last_at = now(), status_code = EXCLUDED.status_code",
      failure.client_ip, failure.detail_json, failure.status_code, failure.claimed_server_id,
      failure.claimed_run_id, failure.window_key);
}

namespace {

// Up to `limit` entries after `after` (none: from the newest), each with its keyset position.
std::vector<Keyed<Row>> read(pqxx::transaction_base& txn, const Filter& filter, int limit,
                             const std::optional<PageAfter>& after, int output_bytes) {
  std::vector<Keyed<Row>> rows;
  std::optional<std::string> after_at, after_id;
  if (after) {
    after_at = after->sort;
    after_id = after->id;
  }
  // Planned with its parameters: the filters and the start that are not set fold away.
  const auto result = txn.exec_params(
      "SELECT a.id, " TETHER_SQL_TS("a.at") ", a.actor, a.action, a.outcome, a.detail::text, a.key_id::text, "
      "a.server_id::text, a.operation_id::text, a.run_id, a.client_ip, a.status_code, o.exit_code, "
      "(SELECT substring(string_agg(data, ''::bytea ORDER BY seq) from 1 for $8) FROM operation_output "
      "  WHERE operation_id = a.operation_id AND stream = 1), "
      "(SELECT substring(string_agg(data, ''::bytea ORDER BY seq) from 1 for $8) FROM operation_output "
      "  WHERE operation_id = a.operation_id AND stream = 2), "
      "a.claimed_server_id, a.claimed_run_id, a.failures, " TETHER_SQL_TS("a.last_at") ", a.target, "
      "floor(extract(epoch FROM a.at))::bigint, " TETHER_SQL_US("a.at") " "
      "FROM audit_log a LEFT JOIN operations o ON o.id = a.operation_id "
      "WHERE ($1::uuid IS NULL OR a.key_id = $1::uuid) AND ($2::uuid IS NULL OR a.server_id = $2::uuid) "
      "AND ($3::text IS NULL OR a.run_id = $3) AND ($4::text IS NULL OR a.action = $4) "
      "AND ($5::timestamptz IS NULL OR a.at >= $5::timestamptz) AND ($6::timestamptz IS NULL OR a.at < $6::timestamptz) "
      "AND ($9::text IS NULL OR left(a.action, length($9)) = $9) AND ($10::text IS NULL OR a.actor = $10) "
      "AND ($11::text IS NULL OR a.actor IN ('user:' || $11, $11)) "
      "AND ($12::bigint IS NULL OR (a.at, a.id) < (" TETHER_SQL_AT("$12") ", $13::bigint)) "
      "ORDER BY a.at DESC, a.id DESC LIMIT $7",
      filter.key_id, filter.server_id, filter.run_id, filter.action, filter.since, filter.until, limit,
      output_bytes, filter.action_prefix, filter.actor, filter.username, after_at, after_id);
  for (const auto& r : result) {
    Row row;
    row.id = r[0].as<std::int64_t>();
    row.at = r[1].as<std::string>();
    row.actor = r[2].as<std::string>();
    row.action = r[3].as<std::string>();
    row.outcome = r[4].as<std::string>();
    row.detail_json = r[5].as<std::string>();
    row.key_id = optional_text(r[6]);
    row.server_id = optional_text(r[7]);
    row.operation_id = optional_text(r[8]);
    row.run_id = optional_text(r[9]);
    row.client_ip = optional_text(r[10]);
    row.status_code = optional_int(r[11]);
    row.exit_code = optional_int(r[12]);
    if (!r[13].is_null()) row.stdout_head = pqxx::binarystring(r[13]).str();
    if (!r[14].is_null()) row.stderr_head = pqxx::binarystring(r[14]).str();
    row.claimed_server_id = optional_text(r[15]);
    row.claimed_run_id = optional_text(r[16]);
    row.failures = optional_int(r[17]);
    row.last_at = optional_text(r[18]);
    row.target = optional_text(r[19]);
    row.at_unix = r[20].as<std::int64_t>();
    PageAfter key{r[21].as<std::string>(), std::to_string(row.id)};
    rows.push_back({std::move(row), std::move(key)});
  }
  return rows;
}

}  // namespace

std::vector<Row> query(pqxx::transaction_base& txn, const Filter& filter, int output_bytes) {
  std::vector<Row> rows;
  for (auto& keyed : read(txn, filter, filter.limit, std::nullopt, output_bytes)) rows.push_back(std::move(keyed.row));
  return rows;
}

Page<Row> page(pqxx::transaction_base& txn, const Filter& filter, const PageRequest& request, int output_bytes) {
  return keyed_page(read(txn, filter, request.limit + 1, request.after, output_bytes), request.limit);
}

}  // namespace tether::store::audit
