// Password hashing (PBKDF2-HMAC-SHA256 against known vectors computed with Python's
// hashlib.pbkdf2_hmac), its stored form, and seed 004's strength rule with its messages.
#include "common/crypto.hpp"
#include "controller/auth/passwords.hpp"

#include <catch2/catch.hpp>

using namespace tether;

TEST_CASE("PBKDF2-HMAC-SHA256 matches known vectors", "[auth][passwords]") {
  // RFC 7914 section 11 / hashlib.pbkdf2_hmac('sha256', b'password', b'salt', 1)
  CHECK(crypto::hex_encode(auth::pbkdf2_sha256("password", "salt", 1)) ==
        "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
  // hashlib.pbkdf2_hmac('sha256', b'Correct Horse 9', bytes(range(16)), 600000)
  std::string salt;
  for (int i = 0; i < 16; ++i) salt.push_back(static_cast<char>(i));
  CHECK(crypto::hex_encode(auth::pbkdf2_sha256("Correct Horse 9", salt, 600000)) ==
        "a7e1242aa5039fd0cedfa7e6c98e8d867e6b353165afbcc9d345203891761fa7");
  CHECK(auth::verify_password("Correct Horse 9",
                              "pbkdf2-sha256$600000$000102030405060708090a0b0c0d0e0f$"
                              "a7e1242aa5039fd0cedfa7e6c98e8d867e6b353165afbcc9d345203891761fa7"));
}

TEST_CASE("a stored password names its scheme, iterations and a fresh 16-byte salt, and verifies", "[auth][passwords]") {
  CHECK(auth::password_iterations >= 600000);
  const auto a = auth::hash_password("Secret-Pass1");
  const auto b = auth::hash_password("Secret-Pass1");
  INFO(a);
  CHECK(a.starts_with("pbkdf2-sha256$" + std::to_string(auth::password_iterations) + "$"));
  CHECK(a.size() == std::string("pbkdf2-sha256$600000$").size() + 32 + 1 + 64);
  CHECK(a != b);  // salts differ
  CHECK(a.find("Secret-Pass1") == std::string::npos);
  CHECK(auth::verify_password("Secret-Pass1", a));
  CHECK_FALSE(auth::verify_password("Secret-Pass2", a));
  CHECK_FALSE(auth::verify_password("Secret-Pass1", "pbkdf2-sha256$x$00$00"));
  CHECK_FALSE(auth::verify_password("Secret-Pass1", "plain"));
  CHECK_FALSE(auth::verify_password("", ""));
}

TEST_CASE("seed 004's password rule: 8 characters, an uppercase letter, a digit or symbol", "[auth][passwords]") {
  CHECK(auth::password_weakness("Short1!") == std::optional<std::string>("Password must be at least 8 characters"));
  CHECK(auth::password_weakness("alllowercase1") ==
        std::optional<std::string>("Password must contain at least one uppercase letter"));
  CHECK(auth::password_weakness("NoDigitsHere") ==
        std::optional<std::string>("Password must contain at least one digit or symbol"));
  CHECK_FALSE(auth::password_weakness("SecurePass1!"));
  CHECK_FALSE(auth::password_weakness("NewSecurePass2!"));
  CHECK_FALSE(auth::password_weakness("Symbol-only"));
  CHECK_FALSE(auth::password_weakness("Digits12345A"));
}
