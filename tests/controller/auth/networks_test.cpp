#include "controller/auth/networks.hpp"

#include <catch2/catch.hpp>

using namespace tether;
namespace ip = boost::asio::ip;

TEST_CASE("CIDR lists match IPv4 and IPv6 addresses inside their ranges only", "[auth][networks]") {
  const auto list = auth::NetworkList::parse({"10.0.0.0/8", "2001:db8::/32", "192.168.1.7"});
  CHECK(list.contains(ip::make_address("10.1.2.3")));
  CHECK_FALSE(list.contains(ip::make_address("11.0.0.1")));
  CHECK(list.contains(ip::make_address("2001:db8::1")));
  CHECK_FALSE(list.contains(ip::make_address("2001:db9::1")));
  CHECK(list.contains(ip::make_address("192.168.1.7")));
  CHECK_FALSE(list.contains(ip::make_address("192.168.1.8")));
}

TEST_CASE("IPv4-mapped IPv6 peers are compared as IPv4", "[auth][networks]") {
  const auto list = auth::NetworkList::parse({"127.0.0.1/32"});
  CHECK(list.contains(ip::make_address("::ffff:127.0.0.1")));
}

TEST_CASE("entries are canonicalised and malformed ones named", "[auth][networks]") {
  CHECK(auth::NetworkList::parse({"10.1.2.3/8", "::1"}).canonical() == std::vector<std::string>{"10.0.0.0/8", "::1/128"});
  CHECK_THROWS_WITH(auth::NetworkList::parse({"10.0.0.0/33"}), Catch::Contains("10.0.0.0/33"));
  CHECK_THROWS_WITH(auth::NetworkList::parse({"example.com"}), Catch::Contains("example.com"));
}

TEST_CASE("X-Forwarded-For is believed only from a trusted proxy", "[auth][networks]") {
  http::Request request;
  request.set("X-Forwarded-For", "203.0.113.7, 10.0.0.5");
  const auto proxies = auth::NetworkList::parse({"127.0.0.1/32", "10.0.0.0/8"});
  CHECK(auth::client_address("127.0.0.1", request, proxies) == "203.0.113.7");
  CHECK(auth::client_address("198.51.100.1", request, proxies) == "198.51.100.1");
  CHECK(auth::client_address("127.0.0.1", request, auth::NetworkList{}) == "127.0.0.1");
  request.set("X-Forwarded-For", "not-an-address");
  CHECK(auth::client_address("127.0.0.1", request, proxies) == "127.0.0.1");
}
