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
std::string hex_encode(std::string_view bytes);

std::string base64_encode(std::string_view bytes);
// Throws std::invalid_argument on malformed input.
std::string base64_decode(std::string_view text);

// Timing-independent comparison (CRYPTO_memcmp) for secrets and their hashes.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace tether::crypto
