#include "controller/streams/sse_events.hpp"

#include "common/utf8.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tether::streams {
namespace {

std::string_view stream_name(int stream) { return stream == 2 ? "stderr" : "stdout"; }

}  // namespace

std::string comment_event(std::string_view text) { return fmt::format(": {}\n\n", text); }

void append_output_event(std::string& out, std::uint64_t seq, int stream, std::string_view text) {
  const boost::json::object data{{"seq", seq}, {"stream", stream_name(stream)}, {"data", text}};
  fmt::format_to(std::back_inserter(out), "id: {}\nevent: output\ndata: {}\n\n", seq, boost::json::serialize(data));
}

std::string gap_event(std::uint64_t from_seq, std::uint64_t to_seq, std::string_view detail) {
  const boost::json::object data{{"from_seq", from_seq}, {"to_seq", to_seq}, {"detail", detail}};
  return fmt::format("id: {}\nevent: gap\ndata: {}\n\n", to_seq, boost::json::serialize(data));
}

std::string end_event(const boost::json::value& body) {
  return fmt::format("event: end\ndata: {}\n\n", boost::json::serialize(body));
}

std::string Utf8Streams::text_of(int stream, std::string_view bytes) {
  auto& held = held_.at(stream == 2 ? 2 : 1);
  std::string joined;
  if (!held.empty()) {
    joined = std::exchange(held, {});
    joined.append(bytes);
    bytes = joined;
  }
  const auto tail = utf8::incomplete_tail_length(bytes);
  held.assign(bytes.substr(bytes.size() - tail));
  return utf8::sanitize(bytes.substr(0, bytes.size() - tail));
}

}  // namespace tether::streams
