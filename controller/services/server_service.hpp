#pragma once
#include "controller/auth/authenticator.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

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
std::vector<store::ServerRecord> list_servers(pqxx::transaction_base& txn);
// 404 when unknown.
store::ServerRecord get_server(pqxx::transaction_base& txn, const std::string& id);
// Revokes the agent token; 404 when unknown or already decommissioned.
void decommission_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                         const std::string& client_ip);

}  // namespace tether::services
