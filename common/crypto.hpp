#pragma once
// Hashing, random secrets and encodings, all delegated to OpenSSL.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tether::crypto {

// Cryptographically secure random bytes (RAND_bytes); throws on failure.
std::string random_bytes(std::size_t count);

// A new secret: `prefix` followed by 256 bits of randomness, hex encoded.
std::string new_secret(std::string_view prefix);

std::string sha256_hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`, raw 32 bytes (webhook signatures, TOTP).
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hex_encode(std::string_view bytes);

std::string base64_encode(std::string_view bytes);
// Throws std::invalid_argument on malformed input.
std::string base64_decode(std::string_view text);

// Timing-independent comparison (CRYPTO_memcmp) for secrets and their hashes.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace tether::crypto

namespace tether::crypto {

// AES-256-GCM with a random 96-bit nonce. The result is nonce || ciphertext || 128-bit tag.
// `key` must be 32 bytes; throws std::invalid_argument otherwise.
std::string seal(std::string_view key, std::string_view plaintext);
// Throws std::runtime_error when the data was not sealed with this key or was altered.
std::string open(std::string_view key, std::string_view sealed);

}  // namespace tether::crypto
