#pragma once
// Registry credentials. The password column holds AES-256-GCM ciphertext only; sealing and opening
// happen in the service with the controller's master key.
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::store::registry {

struct Credential {
  std::string id, name, registry_url, registry_type, username;
  std::string password_sealed;
  std::string created_at, updated_at;
};

Credential insert(pqxx::transaction_base& txn, const Credential& credential);
// A page of the credentials that are not deleted, oldest first (created_at, then id); the cursor's
// sort key is created_at in epoch microseconds. Served by registry_credentials_by_created.
Page<Credential> list(pqxx::transaction_base& txn, const PageRequest& page);
std::optional<Credential> find(pqxx::transaction_base& txn, const std::string& id);
std::optional<Credential> update(pqxx::transaction_base& txn, const Credential& credential);
bool remove(pqxx::transaction_base& txn, const std::string& id);

}  // namespace tether::store::registry
