#pragma once
// Applications (deploy targets) and their deployments.
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::store::applications {

struct Application {
  std::string id, name, server_id, directory, deploy_branch, deploy_command, created_at;
};

struct Deployment {
  std::string id, application_id, operation_id, commit_ref;
  std::optional<std::string> resolved_commit;
  std::string operation_status;
  std::string created_at;
  std::optional<std::string> completed_at;
};

Application insert(pqxx::transaction_base& txn, const Application& application);
// A page of the applications that are not deleted, oldest first (created_at, then id); the
// cursor's sort key is created_at in epoch microseconds. Served by applications_by_created.
Page<Application> list(pqxx::transaction_base& txn, const PageRequest& page);
std::optional<Application> find(pqxx::transaction_base& txn, const std::string& id);
// Writes all fields of `application` (the caller merged the patch). nullopt when unknown.
std::optional<Application> update(pqxx::transaction_base& txn, const Application& application);
bool remove(pqxx::transaction_base& txn, const std::string& id);
bool name_in_use(pqxx::transaction_base& txn, const std::string& name, const std::string& except_id);

void insert_deployment(pqxx::transaction_base& txn, const std::string& id, const std::string& application_id,
                       const std::string& operation_id, const std::string& commit_ref);
// Reported by the agent of `server_id`: only a deployment whose operation ran on that server is touched.
void record_resolved_commit(pqxx::transaction_base& txn, const std::string& server_id, const std::string& operation_id,
                            const std::string& sha);
// A page of deployments (of one application, or all), newest first (created_at, then id, both
// descending). Served by deployments_by_created or deployments_by_application.
Page<Deployment> deployments(pqxx::transaction_base& txn, const std::optional<std::string>& application_id,
                             const PageRequest& page);
std::optional<Deployment> find_deployment(pqxx::transaction_base& txn, const std::string& id);

}  // namespace tether::store::applications
