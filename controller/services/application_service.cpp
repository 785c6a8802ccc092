#include "controller/services/application_service.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/operations/operation_fields.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/server_store.hpp"

namespace tether::services {

using services::ServiceError;

namespace {

void validate(pqxx::transaction_base& txn, const store::applications::Application& a) {
  if (a.name.empty() || a.name.size() > 200) throw json::FieldError("name: must be 1 to 200 characters");
  if (store::applications::name_in_use(txn, a.name, a.id)) {
    throw ServiceError(Refusal::conflict, "an application named '" + a.name + "' already exists");
  }
  if (!ids::is_uuid(a.server_id)) throw json::FieldError("server_id: must be a UUID");
  auto server = store::servers::find(txn, a.server_id);
  if (!server || server->status == "decommissioned") throw json::FieldError("server_id: server " + a.server_id + " does not exist");
  if (a.directory.empty() || a.directory.front() != '/' || a.directory.size() > 4096 ||
      a.directory.find('\0') != std::string::npos) {
    throw json::FieldError("directory: must be an absolute path");
  }
  if (!operations::valid_git_ref(a.deploy_branch)) throw json::FieldError("deploy_branch: must be a valid branch name");
  if (a.deploy_command.empty() || a.deploy_command.size() > operations::max_command_chars) {
    throw json::FieldError("deploy_command: must be 1 to 8192 characters");
  }
}

}  // namespace

store::applications::Application create_application(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                    const ApplicationInput& input, const std::string& client_ip) {
  if (!input.name) throw json::FieldError("name: field required");
  if (!input.server_id) throw json::FieldError("server_id: field required");
  if (!input.directory) throw json::FieldError("directory: field required");
  store::applications::Application application{ids::new_uuid(),
                                               *input.name,
                                               ids::parse_uuid(*input.server_id).value_or(*input.server_id),
                                               *input.directory,
                                               input.deploy_branch.value_or("main"),
                                               input.deploy_command.value_or("docker compose up -d"),
                                               ""};
  validate(txn, application);
  auto stored = store::applications::insert(txn, application);
  store::audit::record(txn, {actor.actor(), "applications.create", stored.id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"name", stored.name}})});
  return stored;
}

store::applications::Application update_application(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                    const std::string& id, const ApplicationInput& input,
                                                    const std::string& client_ip) {
  auto application = get_application(txn, id);
  if (input.name) application.name = *input.name;
  if (input.server_id) application.server_id = ids::parse_uuid(*input.server_id).value_or(*input.server_id);
  if (input.directory) application.directory = *input.directory;
  if (input.deploy_branch) application.deploy_branch = *input.deploy_branch;
  if (input.deploy_command) application.deploy_command = *input.deploy_command;
  validate(txn, application);
  auto stored = store::applications::update(txn, application);
  if (!stored) throw ServiceError(Refusal::not_found, "application " + id + " not found");
  store::audit::record(txn, {actor.actor(), "applications.update", id, client_ip, "allowed", "{}"});
  return std::move(*stored);
}

store::Page<store::applications::Application> list_applications(pqxx::transaction_base& txn,
                                                                 const store::PageRequest& page) {
  return store::applications::list(txn, page);
}

store::applications::Application get_application(pqxx::transaction_base& txn, const std::string& id) {
  auto application = store::applications::find(txn, id);
  if (!application) throw ServiceError(Refusal::not_found, "application " + id + " not found");
  return std::move(*application);
}

void delete_application(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                        const std::string& client_ip) {
  if (!store::applications::remove(txn, id)) throw ServiceError(Refusal::not_found, "application " + id + " not found");
  store::audit::record(txn, {actor.actor(), "applications.delete", id, client_ip, "allowed", "{}"});
}

}  // namespace tether::services
