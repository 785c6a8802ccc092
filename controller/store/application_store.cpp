#include "controller/store/application_store.hpp"

#include "controller/store/keyed_page.hpp"
#include "controller/store/sql_text.hpp"

namespace tether::store::applications {
namespace {

const char* const application_columns =
    "id::text, name, server_id::text, directory, deploy_branch, deploy_command, " TETHER_SQL_TS("created_at");

Application to_application(const pqxx::row& r) {
  return Application{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                     r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>()};
}

#define TETHER_DEPLOYMENT_COLUMNS                                                                             \
  "SELECT d.id::text, d.application_id::text, d.operation_id::text, d.commit_ref, d.resolved_commit, o.status, " \
  TETHER_SQL_TS("d.created_at") ", " TETHER_SQL_TS("o.completed_at")
#define TETHER_DEPLOYMENT_FROM " FROM deployments d JOIN operations o ON o.id = d.operation_id "
const char* const deployment_select = TETHER_DEPLOYMENT_COLUMNS TETHER_DEPLOYMENT_FROM;

Deployment to_deployment(const pqxx::row& r) {
  return Deployment{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                    optional_text(r[4]),    r[5].as<std::string>(), r[6].as<std::string>(), optional_text(r[7])};
}

}  // namespace

Application insert(pqxx::transaction_base& txn, const Application& a) {
  return to_application(txn.exec_params1(
      std::string("INSERT INTO applications (id, name, server_id, directory, deploy_branch, deploy_command) "
                  "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ") +
          application_columns,
      a.id, a.name, a.server_id, a.directory, a.deploy_branch, a.deploy_command));
}

Page<Application> list(pqxx::transaction_base& txn, const PageRequest& page) {
  return read_keyed_page(txn,
                         std::string("SELECT ") + application_columns + ", " TETHER_SQL_US("created_at") " FROM applications "
                             "WHERE deleted_at IS NULL "
                             "AND ($1::bigint IS NULL OR (created_at, id) > (" TETHER_SQL_AT("$1") ", $2::uuid)) "
                             "ORDER BY applications.created_at, applications.id LIMIT $3",  // not the id::text column
                         page.limit, to_application, after_sort(page), after_id(page), page.limit + 1);
}

std::optional<Application> find(pqxx::transaction_base& txn, const std::string& id) {
  auto result = txn.exec_params(
      std::string("SELECT ") + application_columns + " FROM applications WHERE id = $1 AND deleted_at IS NULL", id);
  if (result.empty()) return std::nullopt;
  return to_application(result[0]);
}

std::optional<Application> update(pqxx::transaction_base& txn, const Application& a) {
  auto result = txn.exec_params(
      std::string("UPDATE applications SET name = $2, server_id = $3, directory = $4, deploy_branch = $5, "
                  "deploy_command = $6 WHERE id = $1 AND deleted_at IS NULL RETURNING ") +
          application_columns,
      a.id, a.name, a.server_id, a.directory, a.deploy_branch, a.deploy_command);
  if (result.empty()) return std::nullopt;
  return to_application(result[0]);
}

bool remove(pqxx::transaction_base& txn, const std::string& id) {
  return txn.exec_params("UPDATE applications SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL", id)
             .affected_rows() == 1;
}

bool name_in_use(pqxx::transaction_base& txn, const std::string& name, const std::string& except_id) {
  return !txn.exec_params(
                 "SELECT 1 FROM applications WHERE name = $1 AND deleted_at IS NULL AND id::text <> $2", name,
                 except_id)
              .empty();
}

void insert_deployment(pqxx::transaction_base& txn, const std::string& id, const std::string& application_id,
                       const std::string& operation_id, const std::string& commit_ref) {
  txn.exec_params("INSERT INTO deployments (id, application_id, operation_id, commit_ref) VALUES ($1, $2, $3, $4)", id,
                  application_id, operation_id, commit_ref);
}

void record_resolved_commit(pqxx::transaction_base& txn, const std::string& server_id, const std::string& operation_id,
                            const std::string& sha) {
  txn.exec_params(
      "UPDATE deployments d SET resolved_commit = $2 FROM operations o "
      "WHERE d.operation_id = $1 AND o.id = d.operation_id AND o.server_id = $3",
      operation_id, sha, server_id);
}

Page<Deployment> deployments(pqxx::transaction_base& txn, const std::optional<std::string>& application_id,
                             const PageRequest& page) {
  return read_keyed_page(txn,
                         TETHER_DEPLOYMENT_COLUMNS ", " TETHER_SQL_US("d.created_at") TETHER_DEPLOYMENT_FROM
                         "WHERE ($1::uuid IS NULL OR d.application_id = $1::uuid) "
                         "AND ($2::bigint IS NULL OR (d.created_at, d.id) < (" TETHER_SQL_AT("$2") ", $3::uuid)) "
                         "ORDER BY d.created_at DESC, d.id DESC LIMIT $4",
                         page.limit, to_deployment, application_id, after_sort(page), after_id(page), page.limit + 1);
}

std::optional<Deployment> find_deployment(pqxx::transaction_base& txn, const std::string& id) {
  auto result = txn.exec_params(std::string(deployment_select) + "WHERE d.id = $1", id);
  if (result.empty()) return std::nullopt;
  return to_deployment(result[0]);
}

}  // namespace tether::store::applications
