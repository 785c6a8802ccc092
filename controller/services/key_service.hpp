#pragma once
#include "controller/auth/authenticator.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

// The bootstrap path (`tether-controller admin create-key`): returns the secret, stores its hash.
std::string create_operator_key(pqxx::transaction_base& txn, const std::string& name, auth::Role role);

struct AutomationKeyInput {
  std::string name;
  std::vector<std::string> allowed_server_ids;
  std::vector<std::string> allowed_operations;
  std::vector<std::string> allowed_credential_ids;
  std::vector<std::string> ip_allowlist;  // canonical CIDRs
  int rate_limit_per_minute = 100;
  std::optional<std::string> expires_at;  // RFC 3339, already checked to be in the future
};

struct CreatedAutomationKey {
  store::AutomationKeyRecord key;
  std::string secret;  // shown once
};

// 422 when an allowed server does not exist.
CreatedAutomationKey create_automation_key(pqxx::transaction_base& txn, const auth::Operator& actor,
                                           const AutomationKeyInput& input, const std::string& client_ip);
std::vector<store::AutomationKeyRecord> list_automation_keys(pqxx::transaction_base& txn);
// 404 when unknown.
store::AutomationKeyRecord get_automation_key(pqxx::transaction_base& txn, const std::string& id);
AutomationKeyInput automation_key_input(const store::AutomationKeyRecord& key);
// Replaces the key's scopes; 422 when an allowed server or credential does not exist.
store::AutomationKeyRecord update_automation_key(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                 const std::string& id, const AutomationKeyInput& input,
                                                 const std::string& client_ip);
// Returns revoked_at; 404 when unknown.
std::string revoke_automation_key(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                  const std::string& client_ip);

}  // namespace tether::services
