// Fuzz target: proto::decode_output_frame, which reads every binary frame an agent sends.
// Promises: a malformed frame is refused with std::invalid_argument (the agent link's protocol
// error), never a crash; an accepted frame holds 1 to 64 KiB of payload and a sequence number of
// at least 1, and encoding what was decoded gives back the same bytes, so the controller stores
// exactly what the agent sent.
#include "fuzz/check.hpp"
#include "proto/output_frame.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

using tether::fuzz::require;
namespace proto = tether::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  proto::OutputFrameView view;
  try {
    view = proto::decode_output_frame(frame);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  require(!view.payload.empty() && view.payload.size() <= proto::max_output_payload,
          "an accepted frame carries 1 to 64 KiB of payload");
  require(view.seq >= 1, "an accepted frame's sequence number is at least 1");
  require(proto::encode_output_frame(view.stream, view.operation_id, view.seq, view.payload) == frame,
          "encoding a decoded frame gives back the same bytes");
  return 0;
}
