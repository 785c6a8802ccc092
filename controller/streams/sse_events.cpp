#include "controller/streams/sse_events.hpp"

#include "common/utf8.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace tether::streams {

std::string_view stream_name(int stream) { return stream == 2 ? "stderr" : "stdout"; }

std::string comment_event(std::string_view text) { return fmt::format(": {}\n\n", text); }

void append_output_event(std::string& out, std::uint64_t seq, int stream, std::string_view text) {
  fmt::format_to(std::back_inserter(out), "id: {}\nevent: output\ndata: {{\"seq\":{},\"stream\":\"{}\",\"data\":", seq,
                 seq, stream_name(stream));
  // The text is serialized straight onto the event (output streams run at hundreds of MB/s).
  boost::json::serializer serializer;
  serializer.reset(boost::json::string_view(text.data(), text.size()));
  char buffer[16 * 1024];
  while (!serializer.done()) out.append(serializer.read(buffer));
  out += "}\n\n";
}

std::string gap_event(std::uint64_t from_seq, std::uint64_t to_seq, std::string_view detail) {
  const boost::json::object data{{"from_seq", from_seq}, {"to_seq", to_seq}, {"detail", detail}};
  return fmt::format("id: {}\nevent: gap\ndata: {}\n\n", to_seq, boost::json::serialize(data));
}

std::string end_event(const boost::json::value& body) {
  return fmt::format("event: end\ndata: {}\n\n", boost::json::serialize(body));
}

std::string_view Utf8Streams::text_of(int stream, std::string_view bytes) {
  auto& held = held_.at(stream == 2 ? 2 : 1);
  if (!held.empty()) {
    scratch_ = std::exchange(held, {});
    scratch_.append(bytes);
    bytes = scratch_;
  }
  const auto tail = utf8::incomplete_tail_length(bytes);
  held.assign(bytes.substr(bytes.size() - tail));
  const auto text = bytes.substr(0, bytes.size() - tail);
  if (utf8::valid_prefix_length(text) == text.size()) return text;
  scratch_ = utf8::sanitize(text);
  return scratch_;
}

}  // namespace tether::streams
