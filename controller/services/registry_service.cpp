#include "controller/services/registry_service.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/services/service_error.hpp"
#include "controller/store/audit_store.hpp"

#include <boost/algorithm/string/trim.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace tether::services {

using services::ServiceError;

namespace {

constexpr std::array<std::string_view, 5> registry_types = {"ghcr", "dockerhub", "ecr", "gcr", "generic"};

void validate(const store::registry::Credential& c) {
  if (c.name.empty() || c.name.size() > 200) throw json::FieldError("name: must be 1 to 200 characters");
  if (c.registry_url.empty() || c.registry_url.size() > 2048 || c.registry_url.find_first_of(" \t\r\n") != std::string::npos ||
      c.registry_url.front() == '-') {
    throw json::FieldError("registry_url: must be a registry host or URL without spaces");
  }
  if (std::find(registry_types.begin(), registry_types.end(), c.registry_type) == registry_types.end()) {
    throw json::FieldError("registry_type: must be one of ghcr, dockerhub, ecr, gcr, generic");
  }
  if (c.username.empty() || c.username.size() > 512 || c.username.find_first_of("\r\n\0") != std::string::npos ||
      c.username.front() == '-') {
    throw json::FieldError("username: must be 1 to 512 characters without line breaks");
  }
}

}  // namespace

const std::string& RegistryCredentials::key() const {
  if (!master_key_) {
    throw ServiceError(Refusal::unavailable,
                   "no master key configured: start the controller with --master-key-file to use registry credentials");
  }
  return *master_key_;
}

store::registry::Credential RegistryCredentials::create(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                        const CredentialInput& input,
                                                        const std::string& client_ip) const {
  store::registry::Credential credential;
  credential.id = ids::new_uuid();
  credential.registry_url = input.registry_url.value_or("");
  credential.name = input.name.value_or(credential.registry_url);
  credential.registry_type = input.registry_type.value_or("generic");
  credential.username = input.username.value_or("");
  if (!input.password || input.password->empty()) throw json::FieldError("password: field required");
  validate(credential);
  credential.password_sealed = crypto::seal(key(), *input.password);
  auto stored = store::registry::insert(txn, credential);
  store::audit::record(txn, {actor.actor(), "registry_credentials.create", stored.id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"registry_url", stored.registry_url}})});
  return stored;
}

store::registry::Credential RegistryCredentials::update(pqxx::transaction_base& txn, const auth::Operator& actor,
                                                        const std::string& id, const CredentialInput& input,
                                                        const std::string& client_ip) const {
  auto credential = get(txn, id);
  if (input.name) credential.name = *input.name;
  if (input.registry_url) credential.registry_url = *input.registry_url;
  if (input.registry_type) credential.registry_type = *input.registry_type;
  if (input.username) credential.username = *input.username;
  validate(credential);
  if (input.password) {
    if (input.password->empty()) throw json::FieldError("password: must not be empty");
    credential.password_sealed = crypto::seal(key(), *input.password);
  }
  auto stored = store::registry::update(txn, credential);
  if (!stored) throw ServiceError(Refusal::not_found, "registry credential " + id + " not found");
  store::audit::record(txn, {actor.actor(), "registry_credentials.update", id, client_ip, "allowed",
                             json::serialize(boost::json::object{{"password_changed", input.password.has_value()}})});
  return std::move(*stored);
}

store::Page<store::registry::Credential> RegistryCredentials::list(pqxx::transaction_base& txn,
                                                                   const store::PageRequest& page) const {
  key();  // without a master key the credentials are unusable: say so rather than list them
  return store::registry::list(txn, page);
}

store::registry::Credential RegistryCredentials::get(pqxx::transaction_base& txn, const std::string& id) const {
  key();
  auto credential = store::registry::find(txn, id);
  if (!credential) throw ServiceError(Refusal::not_found, "registry credential " + id + " not found");
  return std::move(*credential);
}

void RegistryCredentials::remove(pqxx::transaction_base& txn, const auth::Operator& actor, const std::string& id,
                                 const std::string& client_ip) const {
  key();  // like every registry-credential endpoint: 503 without a master key
  if (!store::registry::remove(txn, id)) throw ServiceError(Refusal::not_found, "registry credential " + id + " not found");
  store::audit::record(txn, {actor.actor(), "registry_credentials.delete", id, client_ip, "allowed", "{}"});
}

std::string RegistryCredentials::password_of(const store::registry::Credential& credential) const {
  try {
    return crypto::open(key(), credential.password_sealed);
  } catch (const std::runtime_error&) {
    throw ServiceError(Refusal::failed,
                   "the credential's password cannot be decrypted with this controller's master key");
  }
}

std::string load_master_key(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::invalid_argument("cannot read the master key file " + path);
  std::stringstream text;
  text << file.rdbuf();
  std::string hex = text.str();
  boost::algorithm::trim(hex);
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    throw std::invalid_argument("the master key file " + path + " must hold 64 hex characters (32 bytes)");
  }
  std::string key;
  for (std::size_t i = 0; i < hex.size(); i += 2) key.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return key;
}

}  // namespace tether::services
