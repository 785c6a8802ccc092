#include "controller/auth/secrets.hpp"

#include "common/crypto.hpp"

#include <cctype>

namespace tether::auth {
namespace {
constexpr std::size_t secret_hex_digits = 64;
constexpr std::size_t lookup_hex_digits = 8;
}  // namespace

IssuedSecret issue_secret(std::string_view kind) {
  auto secret = crypto::new_secret(kind);
  return IssuedSecret{secret, secret.substr(0, kind.size() + lookup_hex_digits), crypto::sha256_hex(secret)};
}

std::optional<PresentedSecret> parse_secret(std::string_view token, std::string_view kind) {
  if (token.size() != kind.size() + secret_hex_digits || token.substr(0, kind.size()) != kind) return std::nullopt;
  for (char c : token.substr(kind.size())) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  return PresentedSecret{std::string(token.substr(0, kind.size() + lookup_hex_digits)), crypto::sha256_hex(token)};
}

bool matches(const PresentedSecret& presented, const std::string& stored_hash) {
  return crypto::constant_time_equals(presented.hash, stored_hash);
}

std::optional<std::string> bearer_token(const http::Request& request) {
  auto it = request.find(http::bhttp::field::authorization);
  if (it == request.end()) return std::nullopt;
  std::string_view value = it->value();
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != std::tolower(static_cast<unsigned char>(scheme[i]))) {
      return std::nullopt;
    }
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  return std::string(value);
}

}  // namespace tether::auth
