#include "controller/services/key_service.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/auth/secrets.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/key_store.hpp"
#include "controller/store/registry_store.hpp"
#include "controller/store/server_store.hpp"

namespace tether::services {

using services::ServiceError;

CreatedOperatorKey create_operator_key(pqxx::transaction_base& txn, const std::string& actor,
                                       const OperatorKeyInput& input, const std::optional<std::string>& client_ip) {
  const auto secret = auth::issue_secret(auth::operator_key_kind);
  const std::string role(auth::role_name(input.role));
  auto key = store::keys::insert_api_key(
      txn, {ids::new_uuid(), input.name, role, secret.lookup_prefix, secret.hash, actor, input.expires_at});
  store::audit::record(txn, {actor, "api_keys.create", key.id, client_ip, "allowed",
                             json::serialize(boost::json::object{
                                 {"name", input.name},
                                 {"role", role},
                                 {"prefix", key.key_prefix},
                                 {"expires_at", input.expires_at ? boost::json::value(*input.expires_at)
                                                                 : boost::json::value(nullptr)}})});
  return CreatedOperatorKey{std::move(key), secret.secret};
}

std::string create_operator_key(pqxx::transaction_base& txn, const std::string& name, auth::Role role) {
  return create_operator_key(txn, "cli", OperatorKeyInput{name, role, std::nullopt}, std::nullopt).secret;
}

store::Page<store::ApiKeyRecord> list_operator_keys(pqxx::transaction_base& txn, const store::PageRequest& page) {
  return store::keys::list_api_keys(txn, page);
}

std::string revoke_operator_key(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                const std::string& client_ip) {
  auto revoked_at = store::keys::revoke_api_key(txn, id);
  if (!revoked_at) throw ServiceError(Refusal::not_found, "API key " + id + " not found");
  store::audit::record(txn, {actor.actor(), "api_keys.revoke", id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"revoked_at", *revoked_at}})});
  return *revoked_at;
}

namespace {

// Scopes may name only servers and credentials that exist.
void check_references(pqxx::transaction_base& txn, const AutomationKeyInput& input) {
  for (const auto& server_id : input.allowed_server_ids) {
    auto server = store::servers::find(txn, server_id);
    if (!server || server->status == "decommissioned") {
      throw ServiceError(Refusal::invalid, "allowed_server_ids: server " + server_id + " does not exist");
    }
  }
  for (const auto& credential_id : input.allowed_credential_ids) {
    if (!store::registry::find(txn, credential_id)) {
      throw ServiceError(Refusal::invalid,
                     "allowed_credential_ids: registry credential " + credential_id + " does not exist");
    }
  }
}

}  // namespace

CreatedAutomationKey create_automation_key(pqxx::transaction_base& txn, const auth::Operator& actor,
                                           const AutomationKeyInput& input, const std::string& client_ip) {
  check_references(txn, input);
  const auto secret = auth::issue_secret(auth::automation_key_kind);
  auto key = store::keys::insert_automation_key(
      txn, {ids::new_uuid(), input.name, secret.lookup_prefix, secret.hash, input.allowed_server_ids,
            input.allowed_operations, input.expires_at, actor.actor(), input.allowed_credential_ids,
            input.ip_allowlist, input.rate_limit_per_minute});
  store::audit::record(txn, {actor.actor(), "automation_keys.create", key.id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"name", input.name}})});
  return CreatedAutomationKey{std::move(key), secret.secret};
}

store::Page<store::AutomationKeyRecord> list_automation_keys(pqxx::transaction_base& txn,
                                                              const store::PageRequest& page) {
  return store::keys::list_automation_keys(txn, page);
}

store::AutomationKeyRecord get_automation_key(pqxx::transaction_base& txn, const std::string& id) {
  auto key = store::keys::find_automation_key_by_id(txn, id);
  if (!key) throw ServiceError(Refusal::not_found, "automation key " + id + " not found");
  return std::move(*key);
}

AutomationKeyInput automation_key_input(const store::AutomationKeyRecord& key) {
  return AutomationKeyInput{key.name,         key.allowed_server_ids,    key.allowed_operations,
                            key.allowed_credential_ids, key.ip_allowlist, key.rate_limit_per_minute,
                            key.expires_at};
}

store::AutomationKeyRecord update_automation_key(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                 const std::string& id, const AutomationKeyInput& input,
                                                 const std::string& client_ip) {
  check_references(txn, input);
  auto updated = store::keys::update_automation_key(
      txn, id,
      {input.name, input.allowed_server_ids, input.allowed_operations, input.allowed_credential_ids,
       input.ip_allowlist, input.rate_limit_per_minute, input.expires_at});
  if (!updated) throw ServiceError(Refusal::not_found, "automation key " + id + " not found");
  store::audit::record(txn, {actor.actor(), "automation_keys.update", id, client_ip, "allowed", "{}"});
  return std::move(*updated);
}

std::string revoke_automation_key(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                  const std::string& client_ip) {
  auto revoked_at = store::keys::revoke_automation_key(txn, id);
  if (!revoked_at) throw ServiceError(Refusal::not_found, "automation key " + id + " not found");
  store::audit::record(txn, {actor.actor(), "automation_keys.revoke", id, client_ip, "allowed", "{}"});
  return *revoked_at;
}

}  // namespace tether::services
