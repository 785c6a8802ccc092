#include "controller/streams/sse_events.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace tether::streams;

namespace {

// The `data:` line of a single event, parsed.
boost::json::object data_of(const std::string& event) {
  const auto start = event.find("\ndata: ");
  REQUIRE(start != std::string::npos);
  const auto end = event.find('\n', start + 7);
  return boost::json::parse(event.substr(start + 7, end - start - 7)).as_object();
}

}  // namespace

TEST_CASE("an output event carries its seq as id and the bytes as one line of JSON", "[streams][sse]") {
  const std::string output("a\r\nb\n\0c\n", 8);
  std::string text;
  append_output_event(text, 7, 2, output);
  CHECK(text.rfind("id: 7\nevent: output\ndata: ", 0) == 0);
  CHECK(text.size() >= 2);
  CHECK(text.substr(text.size() - 2) == "\n\n");
  // Exactly three lines and the blank one: CR, LF and NUL in the output never break the framing.
  CHECK(std::count(text.begin(), text.end(), '\n') == 4);
  CHECK(text.find('\r') == std::string::npos);
  const auto data = data_of(text);
  CHECK(data.at("seq").as_int64() == 7);
  CHECK(data.at("stream").as_string() == "stderr");
  CHECK(std::string(data.at("data").as_string()) == output);
}

TEST_CASE("gap and end events say what they are", "[streams][sse]") {
  const auto gap = gap_event(3, 9, "not stored");
  CHECK(gap.rfind("id: 9\nevent: gap\ndata: ", 0) == 0);
  CHECK(data_of(gap).at("from_seq").as_int64() == 3);
  CHECK(data_of(gap).at("to_seq").as_int64() == 9);
  const auto end = end_event(boost::json::object{{"status", "completed"}});
  CHECK(end == "event: end\ndata: {\"status\":\"completed\"}\n\n");
  CHECK(comment_event("keep-alive") == ": keep-alive\n\n");
}

TEST_CASE("a character split between two chunks of a stream is sent whole with the second", "[streams][sse]") {
  Utf8Streams streams;
  CHECK(streams.text_of(1, "caf\xC3") == "caf");
  CHECK(streams.text_of(2, "err") == "err");  // the other stream is not affected
  CHECK(streams.text_of(1, "\xA9!") == "\xC3\xA9!");
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD in the event text", "[streams][sse]") {
  Utf8Streams streams;
  CHECK(streams.text_of(1, "a\xFF" "b") == "a\xEF\xBF\xBD" "b");
}
