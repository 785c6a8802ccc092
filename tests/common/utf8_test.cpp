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

TEST_CASE("incomplete_tail_length finds a character cut off at the end of a chunk", "[utf8]") {
  using tether::utf8::incomplete_tail_length;
  CHECK(incomplete_tail_length("") == 0);
  CHECK(incomplete_tail_length("abc") == 0);
  CHECK(incomplete_tail_length("h\xC3\xA9") == 0);          // é complete
  CHECK(incomplete_tail_length("h\xC3") == 1);              // first byte of é
  CHECK(incomplete_tail_length("x\xE2\x82") == 2);          // two of the three bytes of €
  CHECK(incomplete_tail_length("\xF0\x9D\x84") == 3);       // three of the four bytes of U+1D11E
  CHECK(incomplete_tail_length("\xF0\x9D\x84\x9E") == 0);   // complete
}

TEST_CASE("incomplete_tail_length leaves bytes that can never become valid to sanitize", "[utf8]") {
  using tether::utf8::incomplete_tail_length;
  CHECK(incomplete_tail_length("a\xFF") == 0);        // never a lead byte
  CHECK(incomplete_tail_length("a\x80") == 0);        // a continuation without a lead
  CHECK(incomplete_tail_length("a\xE0\x80") == 0);    // E0 80 is an overlong start
  CHECK(incomplete_tail_length("a\xED\xA0") == 0);    // a surrogate start
  CHECK(incomplete_tail_length("\x80\x80\x80\x80") == 0);
}

TEST_CASE("code_points counts characters, not bytes", "[utf8]") {
  using tether::utf8::code_points;
  CHECK(code_points("") == 0);
  CHECK(code_points("abc") == 3);
  CHECK(code_points("h\xC3\xA9llo") == 5);            // é is two bytes
  CHECK(code_points("\xE2\x82\xAC\xF0\x9D\x84\x9E") == 2);  // € and U+1D11E: 3 and 4 bytes
}

TEST_CASE("head cuts before a character, never inside one", "[utf8]") {
  using tether::utf8::head;
  CHECK(head("abcdef", 3) == "abc");
  CHECK(head("ab", 3) == "ab");
  CHECK(head("a\xE2\x82\xAC", 2) == "a");  // the euro sign would be cut: left out whole
  CHECK(head("a\xE2\x82\xAC", 3) == "a");
  CHECK(head("a\xE2\x82\xAC", 4) == "a\xE2\x82\xAC");
}
