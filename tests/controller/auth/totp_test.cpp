// TOTP against RFC 6238 appendix B's published SHA-1 vectors (secret "12345678901234567890"),
// the ±1 step window, base32 and the otpauth:// URI.
#include "controller/auth/totp.hpp"

#include <catch2/catch.hpp>

using namespace tether::auth;

TEST_CASE("TOTP codes match RFC 6238's SHA-1 test vectors", "[auth][totp]") {
  const std::string secret = "12345678901234567890";
  const std::vector<std::pair<std::int64_t, std::string>> vectors = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& [time, code] : vectors) {
    INFO("T = " << time);
    CHECK(totp::code_at(secret, time, 8) == code);
    CHECK(totp::code_at(secret, time) == code.substr(2));  // 6 digits: the last six
  }
}

TEST_CASE("a code is accepted within one 30 s step either side, and not beyond", "[auth][totp]") {
  const std::string secret = "12345678901234567890";
  const std::int64_t now = 1111111111;  // step 37037037
  const auto code = totp::code_at(secret, now);
  CHECK(totp::matching_step(secret, code, now) == totp::step_of(now));
  CHECK(totp::matching_step(secret, code, now + 30) == totp::step_of(now));
  CHECK(totp::matching_step(secret, code, now - 30) == totp::step_of(now));
  CHECK_FALSE(totp::matching_step(secret, code, now + 90));
  CHECK_FALSE(totp::matching_step(secret, code, now - 90));
  CHECK_FALSE(totp::matching_step(secret, "000000x", now));
  CHECK_FALSE(totp::matching_step(secret, "", now));
}

TEST_CASE("base32 round-trips and the provisioning URI names the account", "[auth][totp]") {
  CHECK(totp::base32_encode("12345678901234567890") == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  CHECK(totp::base32_decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq") == "12345678901234567890");
  CHECK(totp::base32_encode("f") == "MY");
  CHECK(totp::base32_decode("MY======") == "f");
  CHECK_THROWS_AS(totp::base32_decode("not base32!"), std::invalid_argument);
  CHECK(totp::provisioning_uri("Tether", "ops user", "12345678901234567890") ==
        "otpauth://totp/Tether:ops%20user?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Tether&algorithm=SHA1"
        "&digits=6&period=30");
}
