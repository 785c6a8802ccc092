#include "controller/services/server_service.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/auth/secrets.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/server_store.hpp"

namespace tether::services {

using services::ServiceError;

CreatedServer create_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& name,
                            const std::vector<std::string>& tags, const std::string& client_ip) {
  if (store::servers::name_in_use(txn, name)) {
    throw ServiceError(Refusal::conflict, "a server named '" + name + "' already exists");
  }
  const auto token = auth::issue_secret(auth::agent_token_kind);
  auto server = store::servers::insert(txn, ids::new_uuid(), name, tags, token.lookup_prefix, token.hash);
  store::audit::record(txn, {actor.actor(), "servers.create", server.id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"name", name}})});
  return CreatedServer{std::move(server), token.secret};
}

store::Page<store::ServerRecord> list_servers(pqxx::transaction_base& txn, const store::servers::ListFilter& filter,
                                               const store::PageRequest& page) {
  return store::servers::list(txn, filter, page);
}

store::ServerRecord get_server(pqxx::transaction_base& txn, const std::string& id) {
  auto server = store::servers::find(txn, id);
  if (!server) throw ServiceError(Refusal::not_found, "server " + id + " not found");
  return std::move(*server);
}

store::ServerRecord update_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                  const std::optional<std::string>& name,
                                  const std::optional<std::vector<std::string>>& tags, const std::string& client_ip) {
  auto current = store::servers::find(txn, id);
  if (!current || current->status == "decommissioned") {
    throw ServiceError(Refusal::not_found, "server " + id + " not found");
  }
  if (name && *name != current->name && store::servers::name_in_use(txn, *name)) {
    throw ServiceError(Refusal::conflict, "a server named '" + *name + "' already exists");
  }
  auto updated = store::servers::update(txn, id, name, tags);
  if (!updated) throw ServiceError(Refusal::not_found, "server " + id + " not found");
  boost::json::object details;
  if (name) details["name"] = *name;
  if (tags) {
    boost::json::array list;
    for (const auto& tag : *tags) list.emplace_back(tag);
    details["tags"] = std::move(list);
  }
  store::audit::record(txn, {actor.actor(), "servers.update", id, client_ip, "allowed", json::serialize(details)});
  return std::move(*updated);
}

void decommission_server(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                         const std::string& client_ip) {
  auto server = store::servers::find(txn, id);
  if (!server || server->status == "decommissioned") throw ServiceError(Refusal::not_found, "server " + id + " not found");
  store::servers::decommission(txn, id);
  store::audit::record(txn, {actor.actor(), "servers.decommission", id, client_ip, "allowed", "{}"});
}

}  // namespace tether::services
