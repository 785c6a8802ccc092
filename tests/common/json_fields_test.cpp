#include "common/json_fields.hpp"

#include <catch2/catch.hpp>

using namespace tether::json;

namespace {
boost::json::object object(std::string_view text) { return parse_object(text); }
}  // namespace

TEST_CASE("parse_object reports invalid JSON and non-objects with what was being parsed", "[json]") {
  CHECK_THROWS_WITH(parse_object("{\"a\":", "request body"), Catch::StartsWith("request body is not valid JSON"));
  CHECK_THROWS_WITH(parse_object("[1,2]", "agent message"), Catch::Contains("agent message must be a JSON object"));
  CHECK_THROWS_AS(parse_object(""), FieldError);
  CHECK(parse_object("{\"a\":1}").at("a").as_int64() == 1);
}

TEST_CASE("a missing required field is reported by its name", "[json]") {
  const auto obj = object(R"({"server_id":"x"})");
  CHECK_THROWS_WITH(required_string(obj, "command"), "command: field required");
  CHECK_THROWS_WITH(required_int(obj, "timeout_seconds"), "timeout_seconds: field required");
}

TEST_CASE("a field of the wrong type is reported by its name and the expected type", "[json]") {
  const auto obj = object(R"({"command":5,"timeout_seconds":"60","env":[],"tags":{},"flag":1})");
  CHECK_THROWS_WITH(required_string(obj, "command"), "command: must be a string");
  CHECK_THROWS_WITH(optional_int(obj, "timeout_seconds"), "timeout_seconds: must be an integer");
  CHECK_THROWS_WITH(optional_object(obj, "env"), "env: must be an object");
  CHECK_THROWS_WITH(optional_array(obj, "tags"), "tags: must be an array");
  CHECK_THROWS_WITH(optional_bool(obj, "flag"), "flag: must be true or false");
  CHECK_THROWS_AS(required_string(obj, "command"), FieldError);
}

TEST_CASE("absent and null optional fields both read as nullopt", "[json]") {
  const auto obj = object(R"({"working_directory":null,"env":null})");
  CHECK_FALSE(optional_string(obj, "working_directory").has_value());
  CHECK_FALSE(optional_string(obj, "run_id").has_value());
  CHECK_FALSE(optional_object(obj, "env").has_value());
  CHECK_FALSE(optional_int(obj, "timeout_seconds").has_value());
  CHECK_THROWS_WITH(required_string(obj, "working_directory"), "working_directory: field required");
}

TEST_CASE("integers are accepted from any exact JSON number and refused otherwise", "[json]") {
  const auto obj = object(R"({"a":60,"b":60.0,"c":60.5,"d":18446744073709551615,"e":-3})");
  CHECK(optional_int(obj, "a") == 60);
  CHECK(optional_int(obj, "b") == 60);
  CHECK(optional_int(obj, "e") == -3);
  CHECK_THROWS_WITH(optional_int(obj, "c"), "c: must be an integer");
  CHECK_THROWS_WITH(optional_int(obj, "d"), "d: must be an integer");  // beyond int64
}

TEST_CASE("numbers written with an exponent beyond int64 are refused naming the field", "[json]") {
  const auto obj = object(R"({"big":6.6e25,"small":-9.3e18,"huge":1e999,"edge":9223372036854775807.0,"low":-9.223372036854775808e18})");
  CHECK_THROWS_WITH(optional_int(obj, "big"), "big: must be an integer");
  CHECK_THROWS_WITH(optional_int(obj, "small"), "small: must be an integer");
  CHECK_THROWS_WITH(optional_int(obj, "huge"), "huge: must be an integer");
  CHECK_THROWS_WITH(optional_int(obj, "edge"), "edge: must be an integer");  // the double is 2^63
  CHECK(optional_int(obj, "low") == INT64_MIN);
}

TEST_CASE("present fields of the right type are returned as they are", "[json]") {
  const auto obj = object(R"({"command":"echo hi","ok":true,"env":{"A":"1"},"ids":["x"]})");
  CHECK(required_string(obj, "command") == "echo hi");
  CHECK(optional_bool(obj, "ok") == true);
  CHECK(optional_object(obj, "env")->at("A").as_string() == "1");
  CHECK(optional_array(obj, "ids")->size() == 1);
  CHECK(tether::json::serialize(boost::json::value{{"a", 1}}) == R"({"a":1})");
}

TEST_CASE("parse_storable_object refuses a NUL in any string, naming where it is", "[json][nul]") {
  CHECK_THROWS_WITH(parse_storable_object(R"({"run_id":"a\u0000b"})"),
                    "run_id: must not contain the NUL character (\\u0000)");
  CHECK_THROWS_WITH(parse_storable_object(R"({"run_context":{"ci":{"repo":"x\u0000"}}})"),
                    Catch::StartsWith("run_context.ci.repo: must not contain the NUL character"));
  CHECK_THROWS_WITH(parse_storable_object(R"({"tags":["ok","\u0000"]})"),
                    Catch::StartsWith("tags[1]: must not contain the NUL character"));
  CHECK_THROWS_WITH(parse_storable_object(R"({"run_context":{"a\u0000b":1}})"),
                    Catch::StartsWith("run_context: a key must not contain the NUL character"));
  CHECK_THROWS_WITH(parse_storable_object(R"({"\u0000":1})"),
                    Catch::StartsWith("request body: a key must not contain the NUL character"));
  CHECK_THROWS_AS(parse_storable_object(R"({"env":{"A":"\u0000"}})"), FieldError);
}

TEST_CASE("parse_storable_object names a long key by its head only", "[json][nul]") {
  const std::string key(5000, 'k');
  try {
    parse_storable_object("{\"" + key + "\":\"\\u0000\"}");
    FAIL("a NUL was accepted");
  } catch (const FieldError& e) {
    CHECK(std::string(e.what()).size() < 200);
    CHECK_THAT(e.what(), Catch::StartsWith(std::string(64, 'k') + "...: must not contain"));
  }
}

TEST_CASE("parse_storable_object takes text without NUL as parse_object does", "[json][nul]") {
  const auto obj = parse_storable_object(R"({"a":"h\u00e9 \u0001","b":[1,{"c":"d"}],"e":null})");
  CHECK(obj.at("a").as_string() == "h\xC3\xA9 \x01");
  CHECK_THROWS_WITH(parse_storable_object("[]"), Catch::Contains("request body must be a JSON object"));
  // Agent messages are read with parse_object, which keeps a NUL: a peer's stray byte must not
  // cost it its link.
  CHECK(parse_object(R"({"error":"a\u0000b"})", "agent message").at("error").as_string().size() == 3);
}
