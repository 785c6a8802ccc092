#pragma once
// Secrets kept at rest (a job's env values) sealed with the controller's master key
// (AES-256-GCM). Without a master key nothing can be sealed or opened: such calls are refused as
// unavailable, and the message says which flag is missing.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::services {

class SecretBox {
 public:
  explicit SecretBox(std::optional<std::string> master_key) : master_key_(std::move(master_key)) {}
  // Hex text of nonce || ciphertext || tag.
  std::string seal(std::string_view plaintext) const;
  std::string open(std::string_view sealed_hex) const;
  // Env values (a job's, an ad hoc run's) as one sealed JSON object, and back.
  std::string seal_env(const std::map<std::string, std::string>& env) const;
  std::map<std::string, std::string> open_env(std::string_view sealed_hex) const;

 private:
  const std::string& key() const;
  std::optional<std::string> master_key_;
};

}  // namespace tether::services
