#pragma once
// Applications: a git checkout on one server, the branch to deploy by default, and the command
// that deploys it.
#include "controller/auth/authenticator.hpp"
#include "controller/store/application_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

struct ApplicationInput {
  std::optional<std::string> name, server_id, directory, deploy_branch, deploy_command;
};

store::applications::Application create_application(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                    const ApplicationInput& input, const std::string& client_ip);
store::applications::Application update_application(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                    const std::string& id, const ApplicationInput& input,
                                                    const std::string& client_ip);
store::Page<store::applications::Application> list_applications(pqxx::transaction_base& txn,
                                                                 const store::PageRequest& page);
// 404 when unknown or deleted.
store::applications::Application get_application(pqxx::transaction_base& txn, const std::string& id);
void delete_application(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                        const std::string& client_ip);

}  // namespace tether::services
