#pragma once
// TOTP second factor (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1 through OpenSSL, 30 s steps,
// 6 digits, and codes accepted one step either side of the current one for clock drift.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::auth::totp {

inline constexpr int step_seconds = 30;
inline constexpr int code_digits = 6;
inline constexpr std::size_t secret_bytes = 20;  // 160 bits, as RFC 4226 recommends

// The time step of a Unix time.
std::int64_t step_of(std::int64_t unix_seconds);

// The code of a raw secret at a time step, `digits` long (zero padded).
std::string code_at_step(std::string_view secret, std::int64_t step, int digits = code_digits);
inline std::string code_at(std::string_view secret, std::int64_t unix_seconds, int digits = code_digits) {
  return code_at_step(secret, step_of(unix_seconds), digits);
}

// The step whose code `code` is, within one step of `unix_seconds`'s; nullopt when none matches
// (codes compared in constant time).
std::optional<std::int64_t> matching_step(std::string_view secret, std::string_view code, std::int64_t unix_seconds);

// RFC 4648 base32 without padding, as authenticator apps read secrets; decode accepts lower case,
// spaces and padding, and throws std::invalid_argument on anything else.
std::string base32_encode(std::string_view bytes);
std::string base32_decode(std::string_view text);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
std::string provisioning_uri(const std::string& issuer, const std::string& account, std::string_view secret);

}  // namespace tether::auth::totp
