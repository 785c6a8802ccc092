#pragma once
// User passwords: PBKDF2-HMAC-SHA256 (OpenSSL) with a per-user 16-byte random salt, stored as a
// self-describing string "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>", so that a later
// change of the iteration count still verifies older hashes. Hashing takes a noticeable time by
// design (~0.3 s at 600,000 iterations): call these on database workers, never on I/O threads.
#include <optional>
#include <string>
#include <string_view>

namespace tether::auth {

// The one place the cost is set (above OWASP's 2023 floor for PBKDF2-HMAC-SHA256).
inline constexpr int password_iterations = 600'000;
inline constexpr std::size_t password_salt_bytes = 16;

// Raw derived key (32 bytes) of PBKDF2-HMAC-SHA256.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations);

// A new stored form with a fresh random salt.
std::string hash_password(std::string_view password, int iterations = password_iterations);

// Whether `password` matches the stored form (digests compared in constant time); false for a
// stored form that cannot be parsed.
bool verify_password(std::string_view password, const std::string& stored);

// Seed 004's strength rule: at least 8 characters, one uppercase letter, one digit or symbol.
// nullopt when the password passes, else the message the API answers with.
std::optional<std::string> password_weakness(std::string_view password);

}  // namespace tether::auth
