// Fuzz target: proto::decode_controller_message, which reads every text frame from
// the controller (welcome, dispatch, ack, finished_ack, cancel).
// Promises: malformed JSON, a wrong type or a field out of bounds is refused with json::FieldError
// naming the field (the agent catches exactly that); an unknown "type" gives nullopt; whatever is
// accepted survives encode and decode unchanged, so a message means the same after it is passed on.
#include "common/json_fields.hpp"
#include "fuzz/check.hpp"
#include "proto/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace proto = tether::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tether::fuzz::check_message_round_trip(std::string_view(reinterpret_cast<const char*>(data), size),
                                         [](std::string_view text) { return proto::decode_controller_message(text); });
  return 0;
}
