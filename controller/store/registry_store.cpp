#include "controller/store/registry_store.hpp"

#include "controller/store/keyed_page.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::registry {
namespace {

const char* const columns = "id::text, name, registry_url, registry_type, username, password_encrypted, " TETHER_SQL_TS(
    "created_at") ", " TETHER_SQL_TS("updated_at");

Credential to_credential(const pqxx::row& r) {
  return Credential{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                    r[3].as<std::string>(), r[4].as<std::string>(), pqxx::binarystring(r[5]).str(),
                    r[6].as<std::string>(), r[7].as<std::string>()};
}

}  // namespace

Credential insert(pqxx::transaction_base& txn, const Credential& c) {
  return to_credential(txn.exec_params1(
      std::string("INSERT INTO registry_credentials (id, name, registry_url, registry_type, username, "
                  "password_encrypted) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ") +
          columns,
      c.id, c.name, c.registry_url, c.registry_type, c.username,
      pqxx::binarystring(c.password_sealed.data(), c.password_sealed.size())));
}

Page<Credential> list(pqxx::transaction_base& txn, const PageRequest& page) {
  return read_keyed_page(txn,
                         std::string("SELECT ") + columns + ", " TETHER_SQL_US("created_at") " FROM registry_credentials "
                             "WHERE deleted_at IS NULL "
                             "AND ($1::bigint IS NULL OR (created_at, id) > (" TETHER_SQL_AT("$1") ", $2::uuid)) "
                             "ORDER BY registry_credentials.created_at, registry_credentials.id LIMIT $3",  // not id::text
                         page.limit, to_credential, after_sort(page), after_id(page), page.limit + 1);
}

std::optional<Credential> find(pqxx::transaction_base& txn, const std::string& id) {
  auto result = txn.exec_params(
      std::string("SELECT ") + columns + " FROM registry_credentials WHERE id = $1 AND deleted_at IS NULL", id);
  if (result.empty()) return std::nullopt;
  return to_credential(result[0]);
}

std::optional<Credential> update(pqxx::transaction_base& txn, const Credential& c) {
  auto result = txn.exec_params(
      std::string("UPDATE registry_credentials SET name = $2, registry_url = $3, registry_type = $4, username = $5, "
                  "password_encrypted = $6, updated_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING ") +
          columns,
      c.id, c.name, c.registry_url, c.registry_type, c.username,
      pqxx::binarystring(c.password_sealed.data(), c.password_sealed.size()));
  if (result.empty()) return std::nullopt;
  return to_credential(result[0]);
}

bool remove(pqxx::transaction_base& txn, const std::string& id) {
  return txn.exec_params("UPDATE registry_credentials SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL", id)
             .affected_rows() == 1;
}

}  // namespace tether::store::registry
