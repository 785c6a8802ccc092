#include "controller/store/key_store.hpp"

#include "controller/store/keyed_page.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::keys {
namespace {

const char* const automation_key_columns =
    "id::text, name, key_prefix, key_hash, array_to_json(allowed_server_ids)::text, "
    "array_to_json(allowed_operations)::text, array_to_json(allowed_credential_ids)::text, "
    "array_to_json(ip_allowlist)::text, rate_limit_per_minute, " TETHER_SQL_TS("expires_at") ", "
    "(expires_at IS NOT NULL AND expires_at <= now()), " TETHER_SQL_TS("revoked_at") ", " TETHER_SQL_TS(
        "last_used_at") ", " TETHER_SQL_TS("created_at");

AutomationKeyRecord key_record(const pqxx::row& row) {
  AutomationKeyRecord r;
  r.id = row[0].as<std::string>();
  r.name = row[1].as<std::string>();
  r.key_prefix = row[2].as<std::string>();
  r.key_hash = row[3].as<std::string>();
  r.allowed_server_ids = from_json_array(row[4]);
  r.allowed_operations = from_json_array(row[5]);
  r.allowed_credential_ids = from_json_array(row[6]);
  r.ip_allowlist = from_json_array(row[7]);
  r.rate_limit_per_minute = row[8].as<int>();
  r.expires_at = optional_text(row[9]);
  r.expired = row[10].as<bool>();
  r.revoked_at = optional_text(row[11]);
  r.last_used_at = optional_text(row[12]);
  r.created_at = row[13].as<std::string>();
  return r;
}

const char* const api_key_columns =
    "id::text, name, role, key_hash, revoked_at IS NOT NULL, (expires_at IS NOT NULL AND expires_at <= now()), "
    "key_prefix, created_by, " TETHER_SQL_TS("created_at") ", " TETHER_SQL_TS("last_used_at") ", " TETHER_SQL_TS(
        "expires_at") ", " TETHER_SQL_TS("revoked_at");

ApiKeyRecord to_api_key(const pqxx::row& row) {
  ApiKeyRecord r;
  r.id = row[0].as<std::string>();
  r.name = row[1].as<std::string>();
  r.role = row[2].as<std::string>();
  r.key_hash = row[3].as<std::string>();
  r.revoked = row[4].as<bool>();
  r.expired = row[5].as<bool>();
  r.key_prefix = row[6].as<std::string>();
  r.created_by = row[7].as<std::string>();
  r.created_at = row[8].as<std::string>();
  r.last_used_at = optional_text(row[9]);
  r.expires_at = optional_text(row[10]);
  r.revoked_at = optional_text(row[11]);
  return r;
}

}  // namespace

ApiKeyRecord insert_api_key(pqxx::transaction_base& txn, const NewApiKey& key) {
  return to_api_key(txn.exec_params1(
      std::string("INSERT INTO api_keys (id, name, role, key_prefix, key_hash, created_by, expires_at) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) RETURNING ") +
          api_key_columns,
      key.id, key.name, key.role, key.prefix, key.hash, key.created_by, key.expires_at));
}

std::optional<ApiKeyRecord> find_api_key(pqxx::transaction_base& txn, const std::string& prefix) {
  auto result = exec_cached(txn, "api_key_by_prefix",
                            std::string("SELECT ") + api_key_columns + " FROM api_keys WHERE key_prefix = $1", prefix);
  if (result.empty()) return std::nullopt;
  return to_api_key(result[0]);
}

Page<ApiKeyRecord> list_api_keys(pqxx::transaction_base& txn, const PageRequest& page) {
  // The record shows created_at to the second; the position needs its microseconds, read beside it.
  return read_keyed_page(txn,
                         std::string("SELECT ") + api_key_columns + ", " TETHER_SQL_US("created_at") " FROM api_keys "
                             "WHERE ($1::bigint IS NULL OR (created_at, id) > (" TETHER_SQL_AT("$1") ", $2::uuid)) "
                             "ORDER BY api_keys.created_at, api_keys.id LIMIT $3",  // not the id::text column
                         page.limit, to_api_key, after_sort(page), after_id(page), page.limit + 1);
}

std::optional<std::string> revoke_api_key(pqxx::transaction_base& txn, const std::string& id) {
  auto result = txn.exec_params(
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING " TETHER_SQL_TS(
          "revoked_at"),
      id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

void touch_api_key(pqxx::transaction_base& txn, const std::string& id) {
  exec_cached(txn, "touch_api_key",
              "UPDATE api_keys SET last_used_at = now() WHERE id = $1 "
              "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
              id);
}

AutomationKeyRecord insert_automation_key(pqxx::transaction_base& txn, const NewAutomationKey& key) {
  auto row = txn.exec_params1(
      std::string("INSERT INTO automation_keys (id, name, key_prefix, key_hash, allowed_server_ids, "
                  "allowed_operations, expires_at, created_by, allowed_credential_ids, ip_allowlist, "
                  "rate_limit_per_minute) VALUES ($1, $2, $3, $4, "
                  "ARRAY(SELECT jsonb_array_elements_text($5::jsonb)::uuid), "
                  "ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), $7::timestamptz, $8, "
                  "ARRAY(SELECT jsonb_array_elements_text($9::jsonb)::uuid), "
                  "ARRAY(SELECT jsonb_array_elements_text($10::jsonb)::cidr), $11) RETURNING ") +
          automation_key_columns,
      key.id, key.name, key.prefix, key.hash, to_json_array(key.allowed_server_ids),
      to_json_array(key.allowed_operations), key.expires_at, key.created_by, to_json_array(key.allowed_credential_ids),
      to_json_array(key.ip_allowlist), key.rate_limit_per_minute);
  return key_record(row);
}

Page<AutomationKeyRecord> list_automation_keys(pqxx::transaction_base& txn, const PageRequest& page) {
  return read_keyed_page(txn,
                         std::string("SELECT ") + automation_key_columns + ", " TETHER_SQL_US("created_at") " FROM automation_keys "
                             "WHERE ($1::bigint IS NULL OR (created_at, id) > (" TETHER_SQL_AT("$1") ", $2::uuid)) "
                             "ORDER BY automation_keys.created_at, automation_keys.id LIMIT $3",  // not the id::text column
                         page.limit, key_record, after_sort(page), after_id(page), page.limit + 1);
}

std::optional<AutomationKeyRecord> find_automation_key(pqxx::transaction_base& txn, const std::string& prefix) {
  auto result = exec_cached(txn, "automation_key_by_prefix",
                            std::string("SELECT ") + automation_key_columns +
                                " FROM automation_keys WHERE key_prefix = $1",
                            prefix);
  if (result.empty()) return std::nullopt;
  return key_record(result[0]);
}

std::optional<AutomationKeyRecord> update_automation_key(pqxx::transaction_base& txn, const std::string& id,
                                                         const KeyScopes& scopes) {
  auto result = txn.exec_params(
      std::string("UPDATE automation_keys SET name = $2, "
                  "allowed_server_ids = ARRAY(SELECT jsonb_array_elements_text($3::jsonb)::uuid), "
                  "allowed_operations = ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "
                  "allowed_credential_ids = ARRAY(SELECT jsonb_array_elements_text($5::jsonb)::uuid), "
                  "ip_allowlist = ARRAY(SELECT jsonb_array_elements_text($6::jsonb)::cidr), "
                  "rate_limit_per_minute = $7, expires_at = $8::timestamptz WHERE id = $1 RETURNING ") +
          automation_key_columns,
      id, scopes.name, to_json_array(scopes.allowed_server_ids), to_json_array(scopes.allowed_operations),
      to_json_array(scopes.allowed_credential_ids), to_json_array(scopes.ip_allowlist), scopes.rate_limit_per_minute,
      scopes.expires_at);
  if (result.empty()) return std::nullopt;
  return key_record(result[0]);
}

std::optional<AutomationKeyRecord> find_automation_key_by_id(pqxx::transaction_base& txn, const std::string& id) {
  auto result =
      txn.exec_params(std::string("SELECT ") + automation_key_columns + " FROM automation_keys WHERE id = $1", id);
  if (result.empty()) return std::nullopt;
  return key_record(result[0]);
}

std::optional<std::string> revoke_automation_key(pqxx::transaction_base& txn, const std::string& id) {
  auto result = txn.exec_params(
      "UPDATE automation_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING " TETHER_SQL_TS(
          "revoked_at"),
      id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

void touch_automation_key(pqxx::transaction_base& txn, const std::string& id) {
  exec_cached(txn, "touch_automation_key",
              "UPDATE automation_keys SET last_used_at = now() WHERE id = $1 "
              "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
              id);
}

InvalidKeys invalid_keys(pqxx::transaction_base& txn, const std::vector<std::string>& operator_key_ids,
                         const std::vector<std::string>& automation_key_ids) {
  const auto ids_of = [](const pqxx::result& result) {
    std::vector<std::string> ids;
    for (const auto& row : result) ids.push_back(row[0].as<std::string>());
    return ids;
  };
  InvalidKeys invalid;
  if (!operator_key_ids.empty()) {
    invalid.operator_keys = ids_of(txn.exec_params(
        "SELECT k FROM jsonb_array_elements_text($1::jsonb) AS k WHERE NOT EXISTS "
        "(SELECT 1 FROM api_keys a WHERE a.id = k::uuid AND a.revoked_at IS NULL "
        "AND (a.expires_at IS NULL OR a.expires_at > now())) AND NOT EXISTS "
        "(SELECT 1 FROM sessions s WHERE s.id = k::uuid AND s.expires_at > now())",
        to_json_array(operator_key_ids)));
  }
  if (!automation_key_ids.empty()) {
    invalid.automation_keys = ids_of(txn.exec_params(
        "SELECT k FROM jsonb_array_elements_text($1::jsonb) AS k WHERE NOT EXISTS "
        "(SELECT 1 FROM automation_keys a WHERE a.id = k::uuid AND a.revoked_at IS NULL "
        "AND (a.expires_at IS NULL OR a.expires_at > now()))",
        to_json_array(automation_key_ids)));
  }
  return invalid;
}

}  // namespace tether::store::keys
