#include "controller/http/connection_limits.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace tether::http;
using boost::asio::ip::make_address;

namespace {
std::shared_ptr<ConnectionCounter> counter(std::size_t total, std::size_t per_address,
                                           std::function<bool(const boost::asio::ip::address&)> shared = {}) {
  return std::make_shared<ConnectionCounter>(ConnectionLimits{total, per_address, std::move(shared)});
}
}  // namespace

TEST_CASE("one address gets at most its cap of connections, others are not affected", "[http][limits]") {
  auto connections = counter(100, 2);
  std::vector<ConnectionSlot> held;
  for (int i = 0; i < 2; ++i) {
    auto admission = connections->admit(make_address("10.0.0.1"));
    REQUIRE(admission.slot);
    held.push_back(std::move(*admission.slot));
  }
  const auto refused = connections->admit(make_address("10.0.0.1"));
  CHECK_FALSE(refused.slot);
  CHECK(refused.refusal == ConnectionCounter::Refusal::per_address);
  CHECK(connections->admit(make_address("10.0.0.2")).slot);
  CHECK(connections->total() == 2);  // the 10.0.0.2 slot was dropped at once
}

TEST_CASE("the total cap holds across addresses and a closed connection frees its place", "[http][limits]") {
  auto connections = counter(2, 10);
  auto first = connections->admit(make_address("10.0.0.1"));
  auto second = connections->admit(make_address("10.0.0.2"));
  REQUIRE(first.slot);
  REQUIRE(second.slot);
  const auto third = connections->admit(make_address("10.0.0.3"));
  CHECK_FALSE(third.slot);
  CHECK(third.refusal == ConnectionCounter::Refusal::total);
  first.slot.reset();
  CHECK(connections->total() == 1);
  CHECK(connections->admit(make_address("10.0.0.3")).slot);
}

TEST_CASE("a moved slot is released once, by its last holder", "[http][limits]") {
  auto connections = counter(10, 10);
  auto admission = connections->admit(make_address("::1"));
  REQUIRE(admission.slot);
  {
    ConnectionSlot moved = std::move(*admission.slot);
    admission.slot.reset();
    CHECK(connections->total() == 1);
  }
  CHECK(connections->total() == 0);
}

TEST_CASE("a shared address (a trusted proxy) counts only toward the total", "[http][limits]") {
  const auto proxy = make_address("10.9.9.9");
  auto connections = counter(3, 1, [proxy](const boost::asio::ip::address& a) { return a == proxy; });
  std::vector<ConnectionSlot> held;
  for (int i = 0; i < 3; ++i) {
    auto admission = connections->admit(proxy);
    REQUIRE(admission.slot);
    held.push_back(std::move(*admission.slot));
  }
  CHECK(connections->admit(proxy).refusal == ConnectionCounter::Refusal::total);
  held.clear();
  CHECK(connections->total() == 0);
}
