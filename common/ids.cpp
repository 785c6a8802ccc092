#include "common/ids.hpp"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tether::ids {

std::string new_uuid() {
  thread_local boost::uuids::random_generator generator;
  return boost::uuids::to_string(generator());
}

std::optional<std::string> parse_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (out[i] != '-') return std::nullopt;
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(out[i]))) return std::nullopt;
      out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

bool is_uuid(std::string_view text) { return parse_uuid(text).has_value(); }

UuidBytes to_bytes(std::string_view canonical_uuid) {
  auto parsed = parse_uuid(canonical_uuid);
  if (!parsed) throw std::invalid_argument("not a UUID: " + std::string(canonical_uuid));
  UuidBytes bytes{};
  std::size_t out = 0;
  auto nibble = [](char c) { return static_cast<unsigned char>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (std::size_t i = 0; i < parsed->size();) {
    if ((*parsed)[i] == '-') { ++i; continue; }
    bytes[out++] = static_cast<unsigned char>(nibble((*parsed)[i]) << 4 | nibble((*parsed)[i + 1]));
    i += 2;
  }
  return bytes;
}

std::string from_bytes(const UuidBytes& bytes) {
  boost::uuids::uuid id;
  std::copy(bytes.begin(), bytes.end(), id.begin());
  return boost::uuids::to_string(id);
}

}  // namespace tether::ids
