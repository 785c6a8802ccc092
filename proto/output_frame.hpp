#pragma once
// Binary output frames (PROTOCOL.md, "Binary output frame").
#include <cstdint>
#include <string>
#include <string_view>

namespace tether::proto {

enum class Stream : std::uint8_t { stdout_stream = 1, stderr_stream = 2 };

std::string_view stream_name(Stream stream);  // "stdout" / "stderr"

inline constexpr std::size_t output_header_size = 26;
inline constexpr std::size_t max_output_payload = 64 * 1024;

struct OutputFrameView {
  Stream stream;
  std::string operation_id;  // canonical UUID text
  std::uint64_t seq;
  std::string_view payload;  // points into the decoded buffer
};

std::string encode_output_frame(Stream stream, std::string_view operation_id, std::uint64_t seq,
                                std::string_view payload);
// Throws std::invalid_argument when the frame is malformed.
OutputFrameView decode_output_frame(std::string_view frame);

}  // namespace tether::proto
