#pragma once
// The text of Server-Sent Events (HTML Living Standard, "Server-sent events"): what an operation's
// output stream sends. Every `data` field is one line of JSON, so output bytes of any kind (CR,
// LF, NUL) survive the line-based framing.
#include <boost/json/fwd.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tether::streams {

// The name an output chunk's stream number has in events: 2 is stderr, anything else stdout.
std::string_view stream_name(int stream);

std::string comment_event(std::string_view text);
// id: seq, event: output, data: {"seq","stream","data"}; `text` is valid UTF-8.
void append_output_event(std::string& out, std::uint64_t seq, int stream, std::string_view text);
// id: to_seq, event: gap, data: {"from_seq","to_seq","detail"}.
std::string gap_event(std::uint64_t from_seq, std::uint64_t to_seq, std::string_view detail);
// event: end, data: the JSON value.
std::string end_event(const boost::json::value& body);

// Output of each stream as text, chunk by chunk: a multi-byte character that a chunk boundary
// cut in two is held back and completed by the next chunk of the same stream; bytes that are
// not UTF-8 become U+FFFD.
class Utf8Streams {
 public:
  // Valid until the next call: a view of `bytes` itself when they are valid and nothing was
  // held back, which is the common case, so that fast output is not copied for this.
  std::string_view text_of(int stream, std::string_view bytes);

 private:
  std::array<std::string, 3> held_;  // indexed by stream (1 stdout, 2 stderr)
  std::string scratch_;
};

}  // namespace tether::streams
