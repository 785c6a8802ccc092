#pragma once
// Operation, server and key identifiers are random (v4) UUIDs.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace tether::ids {

using UuidBytes = std::array<unsigned char, 16>;

std::string new_uuid();
// Accepts the canonical 8-4-4-4-12 hex form only (either case); returns it lower-cased.
std::optional<std::string> parse_uuid(std::string_view text);
bool is_uuid(std::string_view text);

// The 16 raw bytes of a canonical UUID string (used in binary output frames).
UuidBytes to_bytes(std::string_view canonical_uuid);
std::string from_bytes(const UuidBytes& bytes);

}  // namespace tether::ids
