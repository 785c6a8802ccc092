#include "common/ids.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace tether::ids;

TEST_CASE("new_uuid makes distinct canonical version-4 UUIDs", "[ids]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_uuid();
    REQUIRE(id.size() == 36);
    CHECK(parse_uuid(id) == id);  // canonical and lower-case already
    CHECK(id[14] == '4');          // version nibble
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 4122 variant
    seen.insert(id);
  }
  CHECK(seen.size() == 100);
}

TEST_CASE("parse_uuid accepts either case and normalises to lower case", "[ids]") {
  CHECK(parse_uuid("3F2504E0-4F89-41D3-9A0C-0305E82C3301") == "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  CHECK(parse_uuid("3f2504e0-4f89-41d3-9a0c-0305e82c3301") == "3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  CHECK(is_uuid("00000000-0000-0000-0000-000000000000"));
}

TEST_CASE("parse_uuid rejects everything but the 8-4-4-4-12 hex form", "[ids]") {
  for (const char* text : {"", "not-a-uuid", "3f2504e0-4f89-41d3-9a0c-0305e82c330",    // one digit short
                           "3f2504e0-4f89-41d3-9a0c-0305e82c33011",                     // one digit long
                           "3f2504e04f8941d39a0c0305e82c3301",                          // no dashes
                           "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",                    // braces
                           "3f2504e0-4f8941d3-9a0c-0305e82c3301-",                      // dash moved
                           "3f2504e0-4f89-41d3-9a0c-0305e82c330g",                      // not hex
                           " 3f2504e0-4f89-41d3-9a0c-0305e82c330"}) {                   // leading space
    INFO("input '" << text << "'");
    CHECK_FALSE(parse_uuid(text).has_value());
    CHECK_FALSE(is_uuid(text));
  }
}

TEST_CASE("to_bytes gives the UUID's 16 bytes in textual order and from_bytes inverts it", "[ids]") {
  const auto bytes = to_bytes("00112233-4455-6677-8899-AABBCCDDEEFF");
  for (std::size_t i = 0; i < bytes.size(); ++i) CHECK(bytes[i] == static_cast<unsigned char>(i * 0x11));
  CHECK(from_bytes(bytes) == "00112233-4455-6677-8899-aabbccddeeff");
  for (int i = 0; i < 20; ++i) {
    const std::string id = new_uuid();
    CHECK(from_bytes(to_bytes(id)) == id);
  }
}

TEST_CASE("to_bytes refuses text that is not a UUID", "[ids]") {
  CHECK_THROWS_AS(to_bytes("not-a-uuid"), std::invalid_argument);
}
