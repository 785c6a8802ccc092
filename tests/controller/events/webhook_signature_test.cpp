// The signature rules of inbound webhooks (controller/events/webhook_signature.hpp), without a
// server: the HMACs equal those `openssl dgst -sha256 -hmac` computes over the same bytes (the
// expected values below were computed that way), a signed delivery's timestamp is Unix seconds or
// RFC 3339 and nothing else, and a signature matches only when it is the whole expected value (hex
// in either case).
#include "controller/events/webhook_signature.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <string>

using namespace tether;
using namespace std::chrono_literals;
using events::github_signature;
using events::parse_webhook_timestamp;
using events::signature_matches;
using events::signed_signature;

namespace {

const std::string secret = "whsec_0123456789abcdef";
const std::string body = R"({"event":"build","ok":true})";

Clock::time_point unix_seconds(std::int64_t seconds) { return Clock::time_point(std::chrono::seconds(seconds)); }

std::string upper(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

TEST_CASE("github_signature is sha256= and the hex HMAC-SHA256 of the raw body with the secret as key",
          "[webhooks][signature]") {
  // RFC 4231 test case 2.
  CHECK(github_signature("Jefe", "what do ya want for nothing?") ==
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // The example of GitHub's documentation on validating webhook deliveries.
  CHECK(github_signature("It's a Secret to Everybody", "Hello, World!") ==
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_CASE("signed_signature is the HMAC of timestamp + \".\" + body, the timestamp exactly as sent",
          "[webhooks][signature]") {
  CHECK(signed_signature(secret, "1733000000", body) ==
        "sha256=ea284a17723f2d0753a2b9e96a855ea3c993c7703b8a245514946be9a874ec5d");
  CHECK(signed_signature(secret, "2024-12-01T12:00:00Z", body) ==
        "sha256=a69e40e7308af33d81b3ffe48a2e8265649709de42d5bcdba8e7c6523c78c3b7");
  INFO("an empty body still has the dot");
  CHECK(signed_signature(secret, "1733000000", "") ==
        "sha256=1e129a772c1523138fe0927058577b6148d5a8e872ea431a49794b09eb6c7f46");
  INFO("another second is another signature");
  CHECK(signed_signature(secret, "1733000001", body) ==
        "sha256=d5652287e32ad031d0516697a7c2b5099b9a919334054ac33f83a5702cbe3d35");
  INFO("another secret is another signature");
  CHECK(signed_signature(secret + "x", "1733000000", body) != signed_signature(secret, "1733000000", body));
}

TEST_CASE("a signature matches only the expected value; its hex may be upper-case", "[webhooks][signature]") {
  const auto expected = signed_signature(secret, "1733000000", body);
  REQUIRE(expected.size() == 7 + 64);
  CHECK(signature_matches(expected, expected));
  CHECK(signature_matches(expected, "sha256=" + upper(expected.substr(7))));

  INFO("one hex digit changed");
  auto changed = expected;
  changed.back() = changed.back() == '0' ? '1' : '0';
  CHECK_FALSE(signature_matches(expected, changed));
  INFO("a digit short, a digit more, the hex alone, another algorithm's prefix, nothing");
  CHECK_FALSE(signature_matches(expected, expected.substr(0, expected.size() - 1)));
  CHECK_FALSE(signature_matches(expected, expected + "0"));
  CHECK_FALSE(signature_matches(expected, expected.substr(7)));
  CHECK_FALSE(signature_matches(expected, "sha1=" + expected.substr(7)));
  CHECK_FALSE(signature_matches(expected, ""));
  CHECK_FALSE(signature_matches(expected, "sha256="));
  INFO("the signature of another body");
  CHECK_FALSE(signature_matches(expected, signed_signature(secret, "1733000000", body + " ")));
}

TEST_CASE("a webhook timestamp in Unix seconds is read as such", "[webhooks][timestamp]") {
  CHECK(parse_webhook_timestamp("1733000000") == unix_seconds(1733000000));
  CHECK(parse_webhook_timestamp("0") == unix_seconds(0));
  INFO("the last second of year 9999 is the largest accepted");
  CHECK(parse_webhook_timestamp("253402300799") == unix_seconds(253402300799));
  CHECK_FALSE(parse_webhook_timestamp("253402300800"));
  CHECK_FALSE(parse_webhook_timestamp("99999999999999999999999"));
}

TEST_CASE("a webhook timestamp in RFC 3339 is read with its offset and fraction", "[webhooks][timestamp]") {
  const auto noon = unix_seconds(1733054400);  // 2024-12-01T12:00:00Z
  CHECK(parse_webhook_timestamp("2024-12-01T12:00:00Z") == noon);
  CHECK(parse_webhook_timestamp("2024-12-01t12:00:00z") == noon);
  CHECK(parse_webhook_timestamp("2024-12-01T13:00:00+01:00") == noon);
  CHECK(parse_webhook_timestamp("2024-12-01T06:30:00-05:30") == noon);
  CHECK(parse_webhook_timestamp("2024-12-01T12:00:00.250Z") == noon + 250ms);
  CHECK(parse_webhook_timestamp("2024-12-01T12:00:00.000001+00:00") == noon + 1us);
}

TEST_CASE("a malformed webhook timestamp is refused", "[webhooks][timestamp]") {
  for (const char* text : {"", " ", "abc", "-1", "+1733000000", "1733000000.5", " 1733000000", "1733000000 ",
                           "1.7e9", "0x10", "2024-12-01", "2024-12-01 12:00:00Z", "2024-12-01T12:00:00",
                           "2024-12-01T12:00Z", "2024-12-01T12:00:00.Z", "2024-12-01T12:00:00+0100",
                           "2024-12-01T12:00:00+1:00", "2024-12-01T12:00:00+24:00", "2024-12-01T12:00:00Z ",
                           "2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "2024-12-01T24:00:00Z",
                           "2024-12-01T12:60:00Z", "Sun, 01 Dec 2024 12:00:00 GMT"}) {
    INFO("timestamp \"" << text << "\"");
    CHECK_FALSE(parse_webhook_timestamp(text));
  }
}

TEST_CASE("the skew window is 300 seconds", "[webhooks][timestamp]") { CHECK(events::max_skew == 300s); }
