#include "common/crypto.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace tether::crypto;

TEST_CASE("sha256_hex matches the FIPS 180-2 test vectors", "[crypto]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256_hex hashes embedded NUL bytes instead of stopping at them", "[crypto]") {
  const std::string with_nul("a\0b", 3);
  CHECK(sha256_hex(with_nul) != sha256_hex("a"));
  CHECK(sha256_hex(with_nul).size() == 64);
}

TEST_CASE("hex_encode writes two lower-case digits per byte", "[crypto]") {
  CHECK(hex_encode(std::string("\x00\x0f\xa5\xff", 4)) == "000fa5ff");
  CHECK(hex_encode("").empty());
}

TEST_CASE("base64_encode matches the RFC 4648 test vectors", "[crypto]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decoding inverts encoding for every length and all byte values", "[crypto]") {
  for (std::size_t length = 0; length <= 70; ++length) {
    const std::string bytes = random_bytes(length);
    INFO("length " << length);
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
  }
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte.push_back(static_cast<char>(b));
  CHECK(base64_decode(base64_encode(every_byte)) == every_byte);
}

TEST_CASE("base64_decode rejects input that is not base64", "[crypto]") {
  CHECK_THROWS_AS(base64_decode("Zm9"), std::invalid_argument);       // length not a multiple of 4
  CHECK_THROWS_AS(base64_decode("Zm9v!!!!"), std::invalid_argument);  // characters outside the alphabet
  CHECK_THROWS_AS(base64_decode("Zm 9"), std::invalid_argument);      // embedded space
  CHECK_THROWS_AS(base64_decode("Zm9v\n"), std::invalid_argument);    // trailing newline
}

TEST_CASE("base64_decode rejects padding anywhere but at the end", "[crypto]") {
  CHECK_THROWS_AS(base64_decode("===="), std::invalid_argument);
  CHECK_THROWS_AS(base64_decode("Z==="), std::invalid_argument);
  CHECK_THROWS_AS(base64_decode("Zg=a"), std::invalid_argument);
  CHECK_THROWS_AS(base64_decode("=Zg="), std::invalid_argument);
  CHECK_THROWS_AS(base64_decode("Zg==Zg=="), std::invalid_argument);
}

TEST_CASE("constant_time_equals is true only for identical byte strings", "[crypto]") {
  CHECK(constant_time_equals("", ""));
  CHECK(constant_time_equals("tat_abc", "tat_abc"));
  CHECK_FALSE(constant_time_equals("tat_abc", "tat_abd"));  // differs in the last byte
  CHECK_FALSE(constant_time_equals("tat_abc", "uat_abc"));  // differs in the first byte
  CHECK_FALSE(constant_time_equals("tat_abc", "tat_ab"));   // a prefix is not equal
  CHECK_FALSE(constant_time_equals("", "x"));
}

TEST_CASE("new_secret is the prefix followed by 64 lower-case hex digits, fresh each time", "[crypto]") {
  const std::string first = new_secret("rca_");
  const std::string second = new_secret("rca_");
  REQUIRE(first.size() == 4 + 64);
  CHECK(first.rfind("rca_", 0) == 0);
  CHECK(first.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
  CHECK(first != second);
}

TEST_CASE("random_bytes returns exactly the requested number of bytes", "[crypto]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(1).size() == 1);
  CHECK(random_bytes(4096).size() == 4096);
  CHECK(random_bytes(32) != random_bytes(32));
}

TEST_CASE("AES-256-GCM sealing round-trips and detects a wrong key or tampering", "[crypto][gcm]") {
  const std::string key = tether::crypto::random_bytes(32);
  const auto sealed = tether::crypto::seal(key, "registry-password");
  CHECK(sealed.find("registry-password") == std::string::npos);
  CHECK(sealed.size() == 12 + 17 + 16);
  CHECK(tether::crypto::open(key, sealed) == "registry-password");
  CHECK(tether::crypto::seal(key, "registry-password") != sealed);  // a fresh nonce every time
  CHECK_THROWS_AS(tether::crypto::open(tether::crypto::random_bytes(32), sealed), std::runtime_error);
  auto tampered = sealed;
  tampered[14] ^= 0x01;
  CHECK_THROWS_AS(tether::crypto::open(key, tampered), std::runtime_error);
  CHECK_THROWS_AS(tether::crypto::seal("short", "x"), std::invalid_argument);
}
