#include "controller/auth/secrets.hpp"

#include <catch2/catch.hpp>

using namespace tether;

TEST_CASE("issued secrets carry their kind, 256 random bits and only their hash is kept", "[auth]") {
  const auto issued = auth::issue_secret(auth::automation_key_kind);
  CHECK(issued.secret.rfind("rca_", 0) == 0);
  CHECK(issued.secret.size() == 4 + 64);
  CHECK(issued.lookup_prefix == issued.secret.substr(0, 12));
  CHECK(issued.hash.size() == 64);
  CHECK(issued.hash.find(issued.secret.substr(4)) == std::string::npos);
  CHECK(auth::issue_secret(auth::automation_key_kind).secret != issued.secret);
}

TEST_CASE("a presented secret matches only its own hash", "[auth]") {
  const auto issued = auth::issue_secret(auth::agent_token_kind);
  const auto presented = auth::parse_secret(issued.secret, auth::agent_token_kind);
  REQUIRE(presented);
  CHECK(presented->lookup_prefix == issued.lookup_prefix);
  CHECK(auth::matches(*presented, issued.hash));
  const auto other = auth::issue_secret(auth::agent_token_kind);
  CHECK_FALSE(auth::matches(*presented, other.hash));
}

TEST_CASE("secrets of another kind or shape are refused", "[auth]") {
  const auto issued = auth::issue_secret(auth::operator_key_kind);
  CHECK_FALSE(auth::parse_secret(issued.secret, auth::automation_key_kind));
  CHECK_FALSE(auth::parse_secret("rca_short", auth::automation_key_kind));
  CHECK_FALSE(auth::parse_secret("rca_" + std::string(64, 'g'), auth::automation_key_kind));
  CHECK_FALSE(auth::parse_secret("rca_" + std::string(64, 'A'), auth::automation_key_kind));
  CHECK(auth::parse_secret("rca_" + std::string(64, 'a'), auth::automation_key_kind));
}

TEST_CASE("the bearer token is read from the Authorization header", "[auth]") {
  http::Request request;
  CHECK_FALSE(auth::bearer_token(request));
  request.set(http::bhttp::field::authorization, "Bearer rca_abc");
  CHECK(*auth::bearer_token(request) == "rca_abc");
  request.set(http::bhttp::field::authorization, "bearer   rca_abc  ");
  CHECK(*auth::bearer_token(request) == "rca_abc");
  request.set(http::bhttp::field::authorization, "Basic dXNlcjpwYXNz");
  CHECK_FALSE(auth::bearer_token(request));
  request.set(http::bhttp::field::authorization, "Bearer ");
  CHECK_FALSE(auth::bearer_token(request));
}
