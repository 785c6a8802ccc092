#pragma once
#include "controller/auth/authenticator.hpp"
#include "controller/store/records.hpp"
#include "controller/store/server_store.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

struct CreatedServer {
  store::ServerRecord server;
  std::string agent_token;  // shown once
};

// 409 when a live server already has the name.
CreatedServer create_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& name,
                            const std::vector<std::string>& tags, const std::string& client_ip);
// One page of servers by name, narrowed by the filter.
store::Page<store::ServerRecord> list_servers(pqxx::transaction_base& txn, const store::servers::ListFilter& filter,
                                               const store::PageRequest& page);
// 404 when unknown.
store::ServerRecord get_server(pqxx::transaction_base& txn, const std::string& id);
// Renames and/or retags (nullopt: unchanged); 404 when unknown or decommissioned, 409 when another
// live server has the name.
store::ServerRecord update_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                  const std::optional<std::string>& name,
                                  const std::optional<std::vector<std::string>>& tags, const std::string& client_ip);
// Revokes the agent token; 404 when unknown or already decommissioned.
void decommission_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                         const std::string& client_ip);

}  // namespace tether::services
