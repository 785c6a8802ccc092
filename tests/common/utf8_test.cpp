#include "common/utf8.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

using tether::utf8::sanitize;

namespace {
const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
}

TEST_CASE("sanitize passes valid UTF-8 through untouched", "[utf8]") {
  const std::string text = "hi\n h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E end";  // é, €, U+1D11E
  CHECK(sanitize(text) == text);
  CHECK(sanitize("").empty());
  const std::string with_nul("a\0b", 3);
  CHECK(sanitize(with_nul) == with_nul);
}

TEST_CASE("sanitize replaces each invalid byte with U+FFFD and keeps the valid ones", "[utf8]") {
  CHECK(sanitize("a\xFF" "b") == "a" + replacement + "b");
  CHECK(sanitize("\x80") == replacement);                                 // lone continuation byte
  CHECK(sanitize("\xE2\x82") == replacement + replacement);               // truncated sequence at the end
  CHECK(sanitize("\xC0\xAF") == replacement + replacement);               // overlong encoding of '/'
  CHECK(sanitize("\xED\xA0\x80") == replacement + replacement + replacement);  // UTF-16 surrogate
  CHECK(sanitize("\xF4\x90\x80\x80") == replacement + replacement + replacement + replacement);  // > U+10FFFF
  CHECK(sanitize("\xE2\x82 ok") == replacement + replacement + " ok");
}

TEST_CASE("sanitized output always survives a JSON round trip unchanged", "[utf8]") {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  const std::string clean = sanitize(every_byte);
  CHECK(sanitize(clean) == clean);  // already valid, so a fixed point
  const auto parsed = boost::json::parse(boost::json::serialize(boost::json::value(clean)));
  CHECK(std::string(parsed.as_string()) == clean);
}
