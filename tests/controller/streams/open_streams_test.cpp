// The caps on open output streams: per key and in all, and a place given back when its stream ends.
#include "controller/streams/open_streams.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using streams::OpenStreams;
using streams::StreamOwner;

namespace {

struct Fixture {
  boost::asio::io_context io;
  // Never used: no check is started, and the pool connects only when given work.
  store::DbPool db{"postgresql://127.0.0.1:1/unused", 1, [](pqxx::connection&) {}};
  std::shared_ptr<OpenStreams> streams;
  Fixture(std::size_t per_key, std::size_t total)
      : streams(std::make_shared<OpenStreams>(io, db, OpenStreams::Limits{per_key, total, std::chrono::seconds(2)})) {}
};

const StreamOwner first_key{StreamOwner::Kind::automation_key, "11111111-1111-1111-1111-111111111111"};
const StreamOwner second_key{StreamOwner::Kind::operator_key, "22222222-2222-2222-2222-222222222222"};

}  // namespace

TEST_CASE("a key gets no more open streams than its cap, and gets one again when one of its streams ends",
          "[streams][open_streams]") {
  Fixture fixture(2, 10);
  auto one = fixture.streams->admit(first_key);
  auto two = fixture.streams->admit(first_key);
  REQUIRE(one);
  REQUIRE(two);
  CHECK_FALSE(fixture.streams->admit(first_key));
  CHECK(fixture.streams->admit(second_key));  // another key has its own cap
  two.reset();
  CHECK(fixture.streams->admit(first_key));
}

TEST_CASE("the controller opens no more streams than its total cap, whatever the keys", "[streams][open_streams]") {
  Fixture fixture(5, 3);
  auto one = fixture.streams->admit(first_key);
  auto two = fixture.streams->admit(first_key);
  auto three = fixture.streams->admit(second_key);
  REQUIRE((one && two && three));
  CHECK(fixture.streams->open_count() == 3);
  CHECK_FALSE(fixture.streams->admit(second_key));
  CHECK_FALSE(fixture.streams->admit(first_key));
  CHECK(fixture.streams->open_count() == 3);  // refusals take no place
  one.reset();
  CHECK(fixture.streams->admit(second_key));
}
