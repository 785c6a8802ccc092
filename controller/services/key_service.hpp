#pragma once
#include "controller/auth/authenticator.hpp"
#include "controller/store/page.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

// Operator API keys (tak_): made by `tether-controller admin create-key` (the bootstrap path) and
// by admins over /api/admin/api-keys. Only the secret's SHA-256 is stored; the secret is shown once.
struct OperatorKeyInput {
  std::string name;  // 1 to 200 characters (checked by the caller)
  auth::Role role = auth::Role::viewer;
  std::optional<std::string> expires_at;  // RFC 3339, already checked to be in the future
};

struct CreatedOperatorKey {
  store::ApiKeyRecord key;
  std::string secret;  // shown once
};

// Audited as api_keys.create by `actor` ("cli" on the command line) from `client_ip`.
CreatedOperatorKey create_operator_key(pqxx::transaction_base& txn, const std::string& actor,
                                       const OperatorKeyInput& input, const std::optional<std::string>& client_ip);
// The bootstrap path (`tether-controller admin create-key`): returns the secret.
std::string create_operator_key(pqxx::transaction_base& txn, const std::string& name, auth::Role role);
// One page of the operator keys, revoked ones included, oldest first.
store::Page<store::ApiKeyRecord> list_operator_keys(pqxx::transaction_base& txn, const store::PageRequest& page);
// The key stops authenticating at once (its open output streams end within seconds); its row stays.
// Returns revoked_at (the first revocation's, when revoked before); 404 when unknown.
std::string revoke_operator_key(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                const std::string& client_ip);

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
store::Page<store::AutomationKeyRecord> list_automation_keys(pqxx::transaction_base& txn,
                                                              const store::PageRequest& page);
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
