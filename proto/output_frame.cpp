#include "proto/output_frame.hpp"

#include "common/ids.hpp"

#include <boost/endian/conversion.hpp>

#include <cstring>
#include <stdexcept>

namespace tether::proto {
namespace {
constexpr std::uint8_t output_kind = 0x01;
}

std::string_view stream_name(Stream stream) {
  return stream == Stream::stdout_stream ? "stdout" : "stderr";
}

std::string encode_output_frame(Stream stream, std::string_view operation_id, std::uint64_t seq,
                                std::string_view payload) {
  if (payload.empty() || payload.size() > max_output_payload) {
    throw std::invalid_argument("output payload must be 1 to 65536 bytes");
  }
  std::string frame(output_header_size + payload.size(), '\0');
  frame[0] = static_cast<char>(output_kind);
  frame[1] = static_cast<char>(stream);
  const auto id = ids::to_bytes(operation_id);
  std::memcpy(frame.data() + 2, id.data(), id.size());
  const std::uint64_t seq_be = boost::endian::native_to_big(seq);
  std::memcpy(frame.data() + 18, &seq_be, sizeof seq_be);
  std::memcpy(frame.data() + output_header_size, payload.data(), payload.size());
  return frame;
}

OutputFrameView decode_output_frame(std::string_view frame) {
  if (frame.size() <= output_header_size) throw std::invalid_argument("output frame too short");
  if (static_cast<std::uint8_t>(frame[0]) != output_kind) throw std::invalid_argument("unknown binary frame kind");
  const auto stream_byte = static_cast<std::uint8_t>(frame[1]);
  if (stream_byte != 1 && stream_byte != 2) throw std::invalid_argument("unknown output stream");
  if (frame.size() - output_header_size > max_output_payload) throw std::invalid_argument("output payload too large");
  ids::UuidBytes id{};
  std::memcpy(id.data(), frame.data() + 2, id.size());
  std::uint64_t seq_be = 0;
  std::memcpy(&seq_be, frame.data() + 18, sizeof seq_be);
  const std::uint64_t seq = boost::endian::big_to_native(seq_be);
  if (seq == 0) throw std::invalid_argument("output sequence numbers start at 1");
  return OutputFrameView{static_cast<Stream>(stream_byte), ids::from_bytes(id), seq,
                         frame.substr(output_header_size)};
}

}  // namespace tether::proto
