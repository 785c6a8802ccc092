#include "common/time.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono;
using namespace tether::timeutil;

TEST_CASE("format_utc writes RFC 3339 UTC with a Z suffix", "[time]") {
  CHECK(format_utc(system_clock::time_point{}) == "1970-01-01T00:00:00Z");
  const auto when = sys_days{year{2026} / April / 10} + hours{14} + minutes{30};
  CHECK(format_utc(when) == "2026-04-10T14:30:00Z");
}

TEST_CASE("format_utc drops fractions of a second instead of rounding up", "[time]") {
  const auto when = sys_days{year{2026} / December / 31} + hours{23} + minutes{59} + seconds{59} + milliseconds{999};
  CHECK(format_utc(time_point_cast<system_clock::duration>(when)) == "2026-12-31T23:59:59Z");
}

TEST_CASE("now_utc has the same shape as format_utc", "[time]") {
  const std::string now = now_utc();
  REQUIRE(now.size() == 20);
  CHECK(now[4] == '-');
  CHECK(now[10] == 'T');
  CHECK(now[19] == 'Z');
}

TEST_CASE("unix_millis counts milliseconds since the epoch", "[time]") {
  CHECK(unix_millis(system_clock::time_point{}) == 0);
  const auto when = sys_days{year{2026} / April / 10} + milliseconds{1234};
  CHECK(unix_millis(time_point_cast<system_clock::duration>(when)) == 1775779201234);
}
