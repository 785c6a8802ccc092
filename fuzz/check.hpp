#pragma once
// What a fuzz target does when a parser breaks a promise without crashing: it reports which one
// and aborts, which libFuzzer (and the replay driver under ctest) count as a finding.
#include "common/json_fields.hpp"
#include "proto/messages.hpp"

#include <cstdio>
#include <string>
#include <string_view>
#include <cstdlib>

namespace tether::fuzz {

inline void require(bool holds, const char* promise) {
  if (holds) return;
  std::fprintf(stderr, "fuzz target: broken promise: %s\n", promise);
  std::abort();
}

// The promise both message decoders keep: malformed input is refused with json::FieldError (then
// nothing more is asked), an unknown type gives nullopt, and whatever is accepted survives encode
// and decode unchanged.
template <class Decode>
void check_message_round_trip(std::string_view text, Decode decode) {
  decltype(decode(text)) message;
  try {
    message = decode(text);
  } catch (const tether::json::FieldError&) {
    return;
  }
  if (!message) return;
  const std::string encoded = tether::proto::encode(*message);
  decltype(decode(text)) again;
  try {
    again = decode(encoded);
  } catch (const tether::json::FieldError& e) {
    std::fprintf(stderr, "re-decoding %s failed: %s\n", encoded.c_str(), e.what());
    require(false, "a message's own encoding is accepted");
  }
  require(again.has_value(), "a message's own encoding has a known type");
  require(tether::proto::encode(*again) == encoded, "encode and decode leave a message unchanged");
}

}  // namespace tether::fuzz
