#include "controller/services/secret_box.hpp"

#include "common/crypto.hpp"
#include "common/json_fields.hpp"
#include "controller/services/service_error.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace tether::services {

const std::string& SecretBox::key() const {
  if (!master_key_) {
    throw ServiceError(Refusal::unavailable,
                       "env values are stored encrypted with the master key: start the controller with "
                       "--master-key-file to use them");
  }
  return *master_key_;
}

namespace {
std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = nibble(hex[i]), low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(high * 16 + low));
  }
  return bytes;
}
}  // namespace

// Sealed bytes travel as hex text, so they fit a text column and a JSON document alike.
std::string SecretBox::seal(std::string_view plaintext) const {
  return crypto::hex_encode(crypto::seal(key(), plaintext));
}

std::string SecretBox::open(std::string_view sealed_hex) const {
  try {
    const auto bytes = hex_decode(sealed_hex);
    if (!bytes) throw std::runtime_error("not hex");
    return crypto::open(key(), *bytes);
  } catch (const ServiceError&) {
    throw;
  } catch (const std::runtime_error&) {
    throw ServiceError(Refusal::failed, "stored env values cannot be decrypted with this controller's master key");
  }
}

std::string SecretBox::seal_env(const std::map<std::string, std::string>& env) const {
  boost::json::object values;
  for (const auto& [name, value] : env) values[name] = value;
  return seal(json::serialize(values));
}

std::map<std::string, std::string> SecretBox::open_env(std::string_view sealed_hex) const {
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : json::parse_object(open(sealed_hex), "env values")) {
    if (value.is_string()) env.emplace(std::string(name), std::string(value.as_string()));
  }
  return env;
}

}  // namespace tether::services
