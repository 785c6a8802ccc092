#pragma once
#include "controller/store/page.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::store::keys {

struct NewApiKey {
  std::string id;
  std::string name;
  std::string role;
  std::string prefix;
  std::string hash;
  std::string created_by = "cli";
  std::optional<std::string> expires_at = {};  // RFC 3339
};
ApiKeyRecord insert_api_key(pqxx::transaction_base& txn, const NewApiKey& key);
std::optional<ApiKeyRecord> find_api_key(pqxx::transaction_base& txn, const std::string& prefix);
// One page of the operator keys, revoked ones included (their rows stay for the audit trail),
// oldest first by (created_at, id) (index api_keys_by_created).
Page<ApiKeyRecord> list_api_keys(pqxx::transaction_base& txn, const PageRequest& page);
// Returns the revocation time, or nullopt when no such key exists. Revoking twice keeps the first time.
std::optional<std::string> revoke_api_key(pqxx::transaction_base& txn, const std::string& id);
// last_used_at is refreshed at most once a minute.
void touch_api_key(pqxx::transaction_base& txn, const std::string& id);

struct NewAutomationKey {
  std::string id;
  std::string name;
  std::string prefix;
  std::string hash;
  std::vector<std::string> allowed_server_ids;
  std::vector<std::string> allowed_operations;
  std::optional<std::string> expires_at;
  std::string created_by;
  std::vector<std::string> allowed_credential_ids = {};
  std::vector<std::string> ip_allowlist = {};
  int rate_limit_per_minute = 100;
};

AutomationKeyRecord insert_automation_key(pqxx::transaction_base& txn, const NewAutomationKey& key);

struct KeyScopes {
  std::string name;
  std::vector<std::string> allowed_server_ids, allowed_operations, allowed_credential_ids, ip_allowlist;
  int rate_limit_per_minute = 100;
  std::optional<std::string> expires_at;
};
// Replaces the key's name and scopes; nullopt when there is no such key.
std::optional<AutomationKeyRecord> update_automation_key(pqxx::transaction_base& txn, const std::string& id,
                                                         const KeyScopes& scopes);
std::optional<AutomationKeyRecord> find_automation_key_by_id(pqxx::transaction_base& txn, const std::string& id);
// A page of automation keys, oldest first (created_at, then id); the cursor's sort key is
// created_at in epoch microseconds. Served by automation_keys_by_created.
Page<AutomationKeyRecord> list_automation_keys(pqxx::transaction_base& txn, const PageRequest& page);
std::optional<AutomationKeyRecord> find_automation_key(pqxx::transaction_base& txn, const std::string& prefix);
// Returns the revocation time, or nullopt when no such key exists. Revoking twice keeps the first time.
std::optional<std::string> revoke_automation_key(pqxx::transaction_base& txn, const std::string& id);
// last_used_at is refreshed at most once a minute so polling does not turn every read into a write.
void touch_automation_key(pqxx::transaction_base& txn, const std::string& id);

// Of the given key ids, those that no longer authenticate: unknown, revoked or (automation keys)
// expired. Operator key ids may also be login sessions' ids (a session ends when it expires or is
// revoked). For ending the output streams they opened.
struct InvalidKeys {
  std::vector<std::string> operator_keys;
  std::vector<std::string> automation_keys;
};
InvalidKeys invalid_keys(pqxx::transaction_base& txn, const std::vector<std::string>& operator_key_ids,
                         const std::vector<std::string>& automation_key_ids);

}  // namespace tether::store::keys
