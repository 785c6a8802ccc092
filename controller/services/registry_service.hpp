#pragma once
// Registry credentials: passwords sealed with the controller's master key (AES-256-GCM), never
// returned, and opened only to hand them to an agent for a login.
#include "controller/auth/authenticator.hpp"
#include "controller/store/registry_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace tether::services {

struct CredentialInput {
  std::optional<std::string> name, registry_url, registry_type, username, password;
};

class RegistryCredentials {
 public:
  // `master_key`: 32 bytes, or nullopt when the controller was started without one (every call
  // that needs it then answers 503).
  explicit RegistryCredentials(std::optional<std::string> master_key) : master_key_(std::move(master_key)) {}

  store::registry::Credential create(pqxx::transaction_base& txn, const auth::Operator& actor,
                                     const CredentialInput& input, const std::string& client_ip) const;
  store::registry::Credential update(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                     const CredentialInput& input, const std::string& client_ip) const;
  store::Page<store::registry::Credential> list(pqxx::transaction_base& txn, const store::PageRequest& page) const;
  store::registry::Credential get(pqxx::transaction_base& txn, const std::string& id) const;
  void remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
              const std::string& client_ip) const;
  // The clear password, for a dispatch only.
  std::string password_of(const store::registry::Credential& credential) const;

 private:
  const std::string& key() const;
  std::optional<std::string> master_key_;
};

// Reads a master key file: 64 hex characters (32 bytes), surrounding whitespace allowed.
std::string load_master_key(const std::string& path);

}  // namespace tether::services
