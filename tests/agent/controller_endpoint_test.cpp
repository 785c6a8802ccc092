#include "agent/controller_endpoint.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using tether::agent::parse_controller_url;

TEST_CASE("an http controller URL dials plain ws on the given port at /api/agent/ws", "[agent][endpoint]") {
  const auto endpoint = parse_controller_url("http://127.0.0.1:8080");
  CHECK_FALSE(endpoint.tls);
  CHECK(endpoint.host == "127.0.0.1");
  CHECK(endpoint.host_is_address);
  CHECK(endpoint.port == "8080");
  CHECK(endpoint.host_header == "127.0.0.1:8080");
  CHECK(endpoint.target == "/api/agent/ws");
  CHECK(endpoint.display() == "ws://127.0.0.1:8080/api/agent/ws");
}

TEST_CASE("an https controller URL dials wss, defaults to port 443 and keeps the host name for SNI", "[agent][endpoint]") {
  const auto endpoint = parse_controller_url("https://tether.example.com/");
  CHECK(endpoint.tls);
  CHECK(endpoint.host == "tether.example.com");
  CHECK_FALSE(endpoint.host_is_address);
  CHECK(endpoint.port == "443");
  CHECK(endpoint.host_header == "tether.example.com:443");
  CHECK(endpoint.target == "/api/agent/ws");
}

TEST_CASE("a base path in the controller URL prefixes the WebSocket path", "[agent][endpoint]") {
  CHECK(parse_controller_url("http://example.com:81/tether/").target == "/tether/api/agent/ws");
  CHECK(parse_controller_url("http://example.com/a/b").target == "/a/b/api/agent/ws");
}

TEST_CASE("an IPv6 controller address is bracketed in the Host header only", "[agent][endpoint]") {
  const auto endpoint = parse_controller_url("http://[::1]:9000");
  CHECK(endpoint.host == "::1");
  CHECK(endpoint.host_is_address);
  CHECK(endpoint.host_header == "[::1]:9000");
}

TEST_CASE("controller URLs that are not plain http(s) host URLs are refused", "[agent][endpoint]") {
  CHECK_THROWS_AS(parse_controller_url("ftp://example.com"), std::invalid_argument);
  CHECK_THROWS_AS(parse_controller_url("example.com:8080"), std::invalid_argument);
  CHECK_THROWS_AS(parse_controller_url("http://"), std::invalid_argument);
  CHECK_THROWS_AS(parse_controller_url("http://user:pw@example.com"), std::invalid_argument);
  CHECK_THROWS_AS(parse_controller_url("http://example.com/?x=1"), std::invalid_argument);
  CHECK_THROWS_AS(parse_controller_url("not a url"), std::invalid_argument);
}
