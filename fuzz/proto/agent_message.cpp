// Fuzz target: proto::decode_agent_message, which reads every text frame from
// an agent (hello, heartbeat, accepted, rejected, started, finished).
// Promises: malformed JSON, a wrong type or a field out of bounds is refused with json::FieldError
// naming the field (the agent link catches std::invalid_argument, a wider net); an unknown "type"
// gives nullopt; whatever is accepted survives encode and decode unchanged, so a message means the
// same after it is passed on.
#include "common/json_fields.hpp"
#include "fuzz/check.hpp"
#include "proto/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

using tether::fuzz::require;
namespace proto = tether::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<proto::AgentMessage> message;
  try {
    message = proto::decode_agent_message(text);
  } catch (const tether::json::FieldError&) {
    return 0;
  }
  if (!message) return 0;
  const std::string encoded = proto::encode(*message);
  std::optional<proto::AgentMessage> again;
  try {
    again = proto::decode_agent_message(encoded);
  } catch (const tether::json::FieldError& e) {
    std::fprintf(stderr, "re-decoding %s failed: %s\n", encoded.c_str(), e.what());
    require(false, "a message's own encoding is accepted");
  }
  require(again.has_value(), "a message's own encoding has a known type");
  require(proto::encode(*again) == encoded, "encode and decode leave a message unchanged");
  return 0;
}
