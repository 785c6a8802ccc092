#include "controller/auth/totp.hpp"

#include "common/crypto.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <stdexcept>

namespace tether::auth::totp {
namespace {
constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}

std::int64_t step_of(std::int64_t unix_seconds) {
  return unix_seconds >= 0 ? unix_seconds / step_seconds : (unix_seconds - step_seconds + 1) / step_seconds;
}

std::string code_at_step(std::string_view secret, std::int64_t step, int digits) {
  unsigned char counter[8];
  auto value = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<unsigned char>(value & 0xff);
    value >>= 8;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter, sizeof counter, digest, &length) ||
      length < 20) {
    throw std::runtime_error("HMAC-SHA1 failed");
  }
  const int offset = digest[length - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(digest[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(digest[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(digest[offset + 2]) << 8) | digest[offset + 3];
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  auto text = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - text.size(), '0') + text;
}

std::optional<std::int64_t> matching_step(std::string_view secret, std::string_view code, std::int64_t unix_seconds) {
  if (code.size() != static_cast<std::size_t>(code_digits)) return std::nullopt;
  const auto now = step_of(unix_seconds);
  std::optional<std::int64_t> found;
  for (std::int64_t step = now - 1; step <= now + 1; ++step) {
    if (crypto::constant_time_equals(code_at_step(secret, step), code) && !found) found = step;
  }
  return found;
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

std::string base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char raw : text) {
    if (raw == ' ' || raw == '=') continue;
    const auto c = static_cast<char>(std::toupper(static_cast<unsigned char>(raw)));
    const auto index = alphabet.find(c);
    if (index == std::string_view::npos) throw std::invalid_argument("not base32");
    buffer = (buffer << 5) | static_cast<std::uint32_t>(index);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::string provisioning_uri(const std::string& issuer, const std::string& account, std::string_view secret) {
  const auto escape = [](const std::string& s) { return boost::urls::encode(s, boost::urls::unreserved_chars); };
  return "otpauth://totp/" + escape(issuer) + ":" + escape(account) + "?secret=" + base32_encode(secret) +
         "&issuer=" + escape(issuer) + "&algorithm=SHA1&digits=" + std::to_string(code_digits) +
         "&period=" + std::to_string(step_seconds);
}

}  // namespace tether::auth::totp
