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

TEST_CASE("parse_rfc3339 reads what format_utc writes", "[time]") {
  const auto when = time_point_cast<system_clock::duration>(sys_days{year{2026} / April / 10} + hours{14} + minutes{30});
  CHECK(parse_rfc3339(format_utc(when)) == when);
  const auto now = time_point_cast<seconds>(system_clock::now());
  CHECK(parse_rfc3339(format_utc(now)) == time_point_cast<system_clock::duration>(now));
}

TEST_CASE("parse_rfc3339 applies numeric offsets and keeps fractions of a second", "[time]") {
  const auto expected = time_point_cast<system_clock::duration>(sys_days{year{2026} / April / 10} + hours{14} + minutes{30});
  CHECK(parse_rfc3339("2026-04-10T16:30:00+02:00") == expected);
  CHECK(parse_rfc3339("2026-04-10T09:00:00-05:30") == expected);
  CHECK(parse_rfc3339("2026-04-10T14:30:00z") == expected);  // RFC 3339 allows a lower-case z
  CHECK(parse_rfc3339("2026-04-10T14:30:00.5Z") == expected + milliseconds{500});
  CHECK(parse_rfc3339("2026-04-10T14:30:00.000001Z") == expected + microseconds{1});
}

TEST_CASE("parse_rfc3339 refuses text that is not an RFC 3339 date-time", "[time]") {
  for (const char* text : {"", "yesterday", "2026-04-10", "2026-04-10T14:30:00",  // no offset
                           "2026-04-10 14:30:00Z",                              // no T
                           "2026-04-10T14:30:00Zjunk", "2026-04-10T14:30:00.Z", "2026-04-10T14:30:00+02",
                           "2026-04-10T14:30:00+2:00",   // one-digit hour offset
                           "2026-04-10T14:30:00+02:0x",  // offset minutes not digits
                           "2026-13-01T00:00:00Z", "2026-04-10T25:00:00Z",
                           "2026-02-30T00:00:00Z",       // no such day
                           " 2026-04-10T14:30:00Z"}) {   // leading space
    INFO("input '" << text << "'");
    CHECK_FALSE(parse_rfc3339(text).has_value());
  }
}

TEST_CASE("format_utc_micros keeps six fraction digits", "[time]") {
  CHECK(tether::timeutil::format_utc_micros(0) == "1970-01-01T00:00:00.000000Z");
  CHECK(tether::timeutil::format_utc_micros(1'796'148'000'123'456) == "2026-12-01T18:00:00.123456Z");
  CHECK(tether::timeutil::format_utc_micros(-1) == "1969-12-31T23:59:59.999999Z");
}
