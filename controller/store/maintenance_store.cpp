#include "controller/store/maintenance_store.hpp"

#include "controller/store/page_params.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::maintenance {
namespace {

const char* const window_columns =
    "w.id::text, w.name, " TETHER_SQL_US("w.starts_at") ", " TETHER_SQL_US("w.ends_at") ", w.recurring, "
    "w.duration_seconds, w.timezone, array_to_json(w.scope_server_ids)::text, array_to_json(w.scope_tags)::text, "
    "array_to_json(w.scope_job_ids)::text, w.autonomy_override, w.enabled, " TETHER_SQL_US("w.activated_at") ", "
    TETHER_SQL_US("w.activated_until") ", " TETHER_SQL_US("w.suppressed_until") ", w.created_by, "
    TETHER_SQL_US("w.created_at") ", " TETHER_SQL_US("w.updated_at");

MaintenanceWindowRecord to_window(const pqxx::row& row) {
  MaintenanceWindowRecord w;
  int i = 0;
  w.id = row[i++].as<std::string>();
  w.name = row[i++].as<std::string>();
  w.start_us = optional_int64(row[i++]);
  w.end_us = optional_int64(row[i++]);
  w.recurring = optional_text(row[i++]);
  w.duration_seconds = optional_int(row[i++]);
  w.timezone = row[i++].as<std::string>();
  w.scope_server_ids = from_json_array(row[i++]);
  w.scope_tags = from_json_array(row[i++]);
  w.scope_job_ids = from_json_array(row[i++]);
  w.autonomy_override = row[i++].as<std::string>();
  w.enabled = row[i++].as<bool>();
  w.activated_us = optional_int64(row[i++]);
  w.activated_until_us = optional_int64(row[i++]);
  w.suppressed_until_us = optional_int64(row[i++]);
  w.created_by = row[i++].as<std::string>();
  w.created_us = row[i++].as<std::int64_t>();
  w.updated_us = row[i++].as<std::int64_t>();
  return w;
}

std::vector<MaintenanceWindowRecord> to_windows(const pqxx::result& result) {
  std::vector<MaintenanceWindowRecord> out;
  for (const auto& row : result) out.push_back(to_window(row));
  return out;
}

}  // namespace

void insert(pqxx::transaction_base& txn, const MaintenanceWindowRecord& w) {
  txn.exec_params(
      "INSERT INTO maintenance_windows (id, name, starts_at, ends_at, recurring, duration_seconds, timezone, "
      "scope_server_ids, scope_tags, scope_job_ids, autonomy_override, enabled, created_by, created_at, updated_at) "
      "VALUES ($1, $2, " TETHER_SQL_AT_OR_NULL("$3::bigint") ", " TETHER_SQL_AT_OR_NULL("$4::bigint") ", $5, $6, $7, "
      "ARRAY(SELECT jsonb_array_elements_text($8::jsonb)::uuid), ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), "
      "ARRAY(SELECT jsonb_array_elements_text($10::jsonb)::uuid), $11, $12, $13, " TETHER_SQL_AT("$14") ", "
      TETHER_SQL_AT("$15") ")",
      w.id, w.name, w.start_us, w.end_us, w.recurring, w.duration_seconds, w.timezone,
      to_json_array(w.scope_server_ids), to_json_array(w.scope_tags), to_json_array(w.scope_job_ids),
      w.autonomy_override, w.enabled, w.created_by, w.created_us, w.updated_us);
}

bool update(pqxx::transaction_base& txn, const MaintenanceWindowRecord& w) {
  const auto result = txn.exec_params(
      "UPDATE maintenance_windows SET name = $2, starts_at = " TETHER_SQL_AT_OR_NULL("$3::bigint") ", "
      "ends_at = " TETHER_SQL_AT_OR_NULL("$4::bigint") ", recurring = $5, duration_seconds = $6, timezone = $7, "
      "scope_server_ids = ARRAY(SELECT jsonb_array_elements_text($8::jsonb)::uuid), "
      "scope_tags = ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), "
      "scope_job_ids = ARRAY(SELECT jsonb_array_elements_text($10::jsonb)::uuid), autonomy_override = $11, "
      "enabled = $12, updated_at = " TETHER_SQL_AT("$13") " WHERE id = $1",
      w.id, w.name, w.start_us, w.end_us, w.recurring, w.duration_seconds, w.timezone,
      to_json_array(w.scope_server_ids), to_json_array(w.scope_tags), to_json_array(w.scope_job_ids),
      w.autonomy_override, w.enabled, w.updated_us);
  return result.affected_rows() == 1;
}

bool remove(pqxx::transaction_base& txn, const std::string& id) {
  return txn.exec_params("DELETE FROM maintenance_windows WHERE id = $1", id).affected_rows() == 1;
}

std::optional<MaintenanceWindowRecord> find(pqxx::transaction_base& txn, const std::string& id, bool for_update) {
  const auto result = txn.exec_params(std::string("SELECT ") + window_columns +
                                          " FROM maintenance_windows w WHERE w.id = $1" +
                                          (for_update ? " FOR UPDATE" : ""),
                                      id);
  if (result.empty()) return std::nullopt;
  return to_window(result[0]);
}

Page<MaintenanceWindowRecord> list(pqxx::transaction_base& txn, const PageRequest& page) {
  return page_of(to_windows(txn.exec_params(
                     std::string("SELECT ") + window_columns +
                         " FROM maintenance_windows w "
                         "WHERE ($1::bigint IS NULL OR (w.created_at, w.id) > (" TETHER_SQL_AT("$1") ", $2::uuid)) "
                         "ORDER BY w.created_at, w.id LIMIT $3",
                     after_sort(page), after_id(page), read_limit(page))),
                 page.limit,
                 [](const MaintenanceWindowRecord& w) { return PageAfter{std::to_string(w.created_us), w.id}; });
}

bool set_manual_state(pqxx::transaction_base& txn, const std::string& id, std::optional<std::int64_t> activated_us,
                      std::optional<std::int64_t> activated_until_us, std::optional<std::int64_t> suppressed_until_us,
                      std::int64_t now_us) {
  return txn
             .exec_params("UPDATE maintenance_windows SET activated_at = " TETHER_SQL_AT_OR_NULL("$2::bigint") ", "
                          "activated_until = " TETHER_SQL_AT_OR_NULL("$3::bigint") ", "
                          "suppressed_until = " TETHER_SQL_AT_OR_NULL("$4::bigint") ", "
                          "updated_at = " TETHER_SQL_AT("$5") " WHERE id = $1",
                          id, activated_us, activated_until_us, suppressed_until_us, now_us)
             .affected_rows() == 1;
}

std::vector<MaintenanceWindowRecord> covering(pqxx::transaction_base& txn, const std::optional<std::string>& job_id,
                                              const std::vector<std::string>& server_ids) {
  return to_windows(exec_cached(
      txn, "maintenance_windows_covering",
      std::string("SELECT ") + window_columns +
          " FROM maintenance_windows w WHERE w.enabled AND ("
          "(cardinality(w.scope_server_ids) = 0 AND cardinality(w.scope_tags) = 0 AND cardinality(w.scope_job_ids) = 0)"
          " OR ($1::uuid IS NOT NULL AND $1::uuid = ANY (w.scope_job_ids))"
          " OR w.scope_server_ids && ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::uuid)"
          " OR (cardinality(w.scope_tags) > 0 AND EXISTS (SELECT 1 FROM servers s WHERE s.id = ANY "
          "(ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::uuid)) AND s.tags && w.scope_tags)))"
          " ORDER BY w.created_at, w.id",
      job_id, to_json_array(server_ids)));
}

std::optional<ScopeMatch> resolve_scope_item(pqxx::transaction_base& txn, const std::string& item) {
  // Ids are compared as text: a cast of a string that is no UUID would fail the statement.
  const auto result = txn.exec_params(
      "SELECT 0, id::text FROM servers WHERE status <> 'decommissioned' AND (id::text = lower($1) OR name = $1) "
      "UNION ALL SELECT 1, id::text FROM jobs WHERE id::text = lower($1) ORDER BY 1 LIMIT 1",
      item);
  if (result.empty()) return std::nullopt;
  return ScopeMatch{result[0][0].as<int>() == 0 ? ScopeMatch::Kind::server : ScopeMatch::Kind::job,
                    result[0][1].as<std::string>()};
}

namespace {
std::vector<std::string> unknown_in(pqxx::transaction_base& txn, const char* table, const std::string& extra,
                                    const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  if (ids.empty()) return out;
  for (const auto& row : txn.exec_params(std::string("SELECT i FROM jsonb_array_elements_text($1::jsonb) AS i "
                                                     "WHERE NOT EXISTS (SELECT 1 FROM ") +
                                             table + " t WHERE t.id::text = lower(i)" + extra + ")",
                                         to_json_array(ids))) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}
}  // namespace

std::vector<std::string> unknown_servers(pqxx::transaction_base& txn, const std::vector<std::string>& ids) {
  return unknown_in(txn, "servers", " AND t.status <> 'decommissioned'", ids);
}

std::vector<std::string> unknown_jobs(pqxx::transaction_base& txn, const std::vector<std::string>& ids) {
  return unknown_in(txn, "jobs", "", ids);
}

}  // namespace tether::store::maintenance
