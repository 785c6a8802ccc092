#include "controller/auth/passwords.hpp"

#include "common/crypto.hpp"

#include <boost/algorithm/hex.hpp>
#include <boost/algorithm/string/split.hpp>
#include <openssl/evp.h>

#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

namespace tether::auth {
namespace {
constexpr std::string_view scheme = "pbkdf2-sha256";
constexpr std::size_t derived_bytes = 32;
}  // namespace

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations) {
  std::string out(derived_bytes, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        EVP_sha256(), static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  return out;
}

std::string hash_password(std::string_view password, int iterations) {
  const auto salt = crypto::random_bytes(password_salt_bytes);
  return std::string(scheme) + "$" + std::to_string(iterations) + "$" + crypto::hex_encode(salt) + "$" +
         crypto::hex_encode(pbkdf2_sha256(password, salt, iterations));
}

bool verify_password(std::string_view password, const std::string& stored) {
  std::vector<std::string> parts;
  boost::algorithm::split(parts, stored, [](char c) { return c == '$'; });
  if (parts.size() != 4 || parts[0] != scheme) return false;
  int iterations = 0;
  const auto [end, error] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (error != std::errc() || end != parts[1].data() + parts[1].size() || iterations < 1) return false;
  std::string salt, expected;
  try {
    salt = boost::algorithm::unhex(parts[2]);
    expected = boost::algorithm::unhex(parts[3]);
  } catch (const std::exception&) {
    return false;
  }
  if (expected.size() != derived_bytes) return false;
  return crypto::constant_time_equals(pbkdf2_sha256(password, salt, iterations), expected);
}

std::optional<std::string> password_weakness(std::string_view password) {
  if (password.size() < 8) return "Password must be at least 8 characters";
  bool upper = false, digit_or_symbol = false;
  for (char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isupper(u)) upper = true;
    if (std::isdigit(u) || (!std::isalpha(u) && !std::isspace(u)) || u >= 0x80) digit_or_symbol = true;
  }
  if (!upper) return "Password must contain at least one uppercase letter";
  if (!digit_or_symbol) return "Password must contain at least one digit or symbol";
  return std::nullopt;
}

}  // namespace tether::auth
