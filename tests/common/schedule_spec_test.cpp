#include "common/schedule_spec.hpp"

#include "common/time.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::chrono;
using namespace std::chrono_literals;
using tether::schedule::InvalidSchedule;
using tether::schedule::Spec;
using tether::schedule::format_duration;
using tether::schedule::load_zone;
using tether::schedule::next_due;
using tether::schedule::parse_duration;
using tether::schedule::parse_spec;

namespace {

system_clock::time_point utc(const std::string& text) {
  const auto when = tether::timeutil::parse_rfc3339(text);
  REQUIRE(when);
  return *when;
}

std::string show(const std::optional<system_clock::time_point>& when) {
  return when ? tether::timeutil::format_utc(*when) : "none";
}

constexpr const char* kDurationMessage = "schedule.interval: must be a duration such as 30s, 5m, 2h or 1d";

}  // namespace

// --- durations -----------------------------------------------------------------------------------

TEST_CASE("durations in seconds, minutes, hours, days and combinations of them", "[schedule]") {
  CHECK(parse_duration("30s", "f") == 30s);
  CHECK(parse_duration("5m", "f") == 300s);
  CHECK(parse_duration("2h", "f") == 7200s);
  CHECK(parse_duration("1d", "f") == 86400s);
  CHECK(parse_duration("90s", "f") == 90s);
  CHECK(parse_duration("1h30m", "f") == 5400s);
  CHECK(parse_duration("1d2h3m4s", "f") == 93784s);
  CHECK(parse_duration("366d", "f") == 366 * 86400s);
  CHECK(parse_duration("005m", "f") == 300s);
}

TEST_CASE("a duration that is not <number><unit>... is refused with the field's name", "[schedule]") {
  for (const char* text : {"", "5", "m", "5x", "5M", "1.5h", "-5m", "+5m", " 5m", "5m ", "5 m", "30m1h", "5m5m", "1h30",
                           "h1", "1w"}) {
    INFO('"' << text << '"');
    CHECK_THROWS_WITH(parse_duration(text, "schedule.interval"), kDurationMessage);
  }
  CHECK_THROWS_AS(parse_duration("5", "x"), std::invalid_argument);
}

TEST_CASE("a duration must be more than zero and at most 366 days", "[schedule]") {
  CHECK_THROWS_WITH(parse_duration("0s", "schedule.interval"), "schedule.interval: must be greater than 0");
  CHECK_THROWS_WITH(parse_duration("0h0m", "schedule.interval"), "schedule.interval: must be greater than 0");
  CHECK_THROWS_WITH(parse_duration("367d", "schedule.interval"), "schedule.interval: must be at most 366d");
  CHECK_THROWS_WITH(parse_duration("366d1s", "schedule.interval"), "schedule.interval: must be at most 366d");
  CHECK_THROWS_WITH(parse_duration("8785h", "schedule.interval"), "schedule.interval: must be at most 366d");
  CHECK_THROWS_WITH(parse_duration("99999999999999999999999s", "schedule.interval"),
                    "schedule.interval: must be at most 366d");
}

TEST_CASE("format_duration writes the largest unit that divides exactly", "[schedule]") {
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(60s) == "1m");
  CHECK(format_duration(5400s) == "90m");
  CHECK(format_duration(3600s) == "1h");
  CHECK(format_duration(86400s) == "1d");
  CHECK(format_duration(90000s) == "25h");
  CHECK(format_duration(2 * 86400s) == "2d");
  CHECK(format_duration(0s) == "0s");
}

TEST_CASE("format_duration reads back to the same duration", "[schedule]") {
  for (const seconds d : {1s, 59s, 61s, 3599s, 3600s, 5400s, 86399s, 86400s, 93784s, 366 * 86400s}) {
    INFO(d.count());
    CHECK(parse_duration(format_duration(d), "f") == d);
  }
}

// --- zones ---------------------------------------------------------------------------------------

TEST_CASE("IANA zone names load from the system database", "[schedule][zone]") {
  CHECK(load_zone("Europe/Berlin").name() == "Europe/Berlin");
  CHECK(load_zone("UTC").name() == "UTC");
  CHECK(load_zone("America/Argentina/Buenos_Aires").name() == "America/Argentina/Buenos_Aires");
  CHECK(load_zone("America/Port-au-Prince").name() == "America/Port-au-Prince");
  // Etc/GMT+5 is five hours behind UTC (the POSIX sign).
  const cctz::time_zone gmt_plus_5 = load_zone("Etc/GMT+5");
  CHECK(gmt_plus_5.lookup(utc("2026-04-10T12:00:00Z")).offset == -5 * 3600);
}

TEST_CASE("unknown zones are refused naming the zone", "[schedule][zone]") {
  CHECK_THROWS_WITH(load_zone("Mars/Olympus_Mons"), "timezone: unknown time zone \"Mars/Olympus_Mons\"");
  CHECK_THROWS_WITH(load_zone("Europe"), "timezone: unknown time zone \"Europe\"");
  CHECK_THROWS_WITH(load_zone(""), "timezone: unknown time zone \"\"");
  CHECK_THROWS_WITH(load_zone("Europe/Berlin "), "timezone: unknown time zone \"Europe/Berlin \"");
  CHECK_THROWS_AS(load_zone("Mars/Olympus_Mons"), std::invalid_argument);
}

TEST_CASE("zone names that are paths, or the machine's localtime, are refused", "[schedule][zone]") {
  // The first four would load through cctz itself (they name real zone files): the check is ours.
  for (const char* name : {"../zoneinfo/Europe/Berlin", "/usr/share/zoneinfo/Europe/Berlin", "localtime",
                           "Europe/../Europe/Berlin", "../../etc/passwd", "/etc/passwd", "Europe/./Berlin", "zone.tab",
                           "Europe\\Berlin", "Europe/Berlin\n"}) {
    INFO(name);
    CHECK_THROWS_WITH(load_zone(name), "timezone: unknown time zone \"" + std::string(name) + "\"");
  }
}

// --- specs ---------------------------------------------------------------------------------------

TEST_CASE("a cron spec keeps the expression and its parse", "[schedule][spec]") {
  const Spec spec = parse_spec("cron", "*/5 * * * *", std::nullopt, std::nullopt);
  CHECK(spec.mode == Spec::Mode::cron);
  CHECK(spec.expr == "*/5 * * * *");
  REQUIRE(spec.cron);
  CHECK(*spec.cron == tether::cron::Expression::parse("0-55/5 * * * *"));
  CHECK(tether::schedule::mode_name(spec.mode) == "cron");
}

TEST_CASE("an interval spec keeps the duration; an at spec keeps the instant", "[schedule][spec]") {
  const Spec interval = parse_spec("interval", std::nullopt, "1h30m", std::nullopt);
  CHECK(interval.mode == Spec::Mode::interval);
  CHECK(interval.interval == 5400s);
  CHECK_FALSE(interval.cron);

  const Spec at = parse_spec("at", std::nullopt, std::nullopt, "2026-04-10T16:30:00+02:00");
  CHECK(at.mode == Spec::Mode::at);
  CHECK(show(at.at) == "2026-04-10T14:30:00Z");
}

TEST_CASE("the fields a mode does not use are ignored, empty or not", "[schedule][spec]") {
  CHECK(parse_spec("cron", "0 3 * * *", "", "").mode == Spec::Mode::cron);
  CHECK(parse_spec("interval", "", "5m", "").interval == 300s);
  CHECK(parse_spec("at", "", "", "2026-04-10T14:30:00Z").at);
  CHECK(parse_spec("interval", "not cron", "5m", "not a time").interval == 300s);
}

TEST_CASE("spec errors name the schedule field", "[schedule][spec]") {
  const auto none = std::nullopt;
  CHECK_THROWS_WITH(parse_spec("weekly", "0 3 * * *", none, none), "schedule.mode: must be one of cron, interval, at");
  CHECK_THROWS_WITH(parse_spec("", none, none, none), "schedule.mode: must be one of cron, interval, at");
  CHECK_THROWS_WITH(parse_spec("CRON", "0 3 * * *", none, none), "schedule.mode: must be one of cron, interval, at");
  CHECK_THROWS_WITH(parse_spec("cron", none, none, none), "schedule.expr: is required for mode cron");
  CHECK_THROWS_WITH(parse_spec("cron", "", none, none), "schedule.expr: is required for mode cron");
  CHECK_THROWS_WITH(parse_spec("cron", "61 * * * *", none, none), "schedule.expr: minute: 61 is out of range 0-59");
  CHECK_THROWS_WITH(parse_spec("cron", "* * * *", none, none), "schedule.expr: expected 5 fields, got 4");
  CHECK_THROWS_WITH(parse_spec("interval", none, none, none), "schedule.interval: is required for mode interval");
  CHECK_THROWS_WITH(parse_spec("interval", none, "5", none), kDurationMessage);
  CHECK_THROWS_WITH(parse_spec("interval", none, "0s", none), "schedule.interval: must be greater than 0");
  CHECK_THROWS_WITH(parse_spec("at", none, none, none), "schedule.time: is required for mode at");
  CHECK_THROWS_WITH(parse_spec("at", none, none, "tomorrow"),
                    "schedule.time: must be an RFC 3339 date-time such as 2026-04-10T14:30:00Z");
  CHECK_THROWS_AS(parse_spec("at", none, none, "tomorrow"), InvalidSchedule);
}

// --- next_due ------------------------------------------------------------------------------------

TEST_CASE("interval: the anchor itself when it is still ahead, then anchor + k * interval", "[schedule][due]") {
  const Spec hourly = parse_spec("interval", std::nullopt, "1h", std::nullopt);
  const cctz::time_zone tz = load_zone("UTC");
  const auto anchor = utc("2026-04-10T10:00:00Z");
  CHECK(show(next_due(hourly, tz, anchor, utc("2026-04-10T09:00:00Z"))) == "2026-04-10T10:00:00Z");
  CHECK(show(next_due(hourly, tz, anchor, utc("2026-04-10T10:00:00Z"))) == "2026-04-10T11:00:00Z");
  CHECK(show(next_due(hourly, tz, anchor, utc("2026-04-10T10:59:59Z"))) == "2026-04-10T11:00:00Z");
  CHECK(show(next_due(hourly, tz, anchor, utc("2026-04-10T11:00:00Z"))) == "2026-04-10T12:00:00Z");
  CHECK(show(next_due(hourly, tz, anchor, utc("2026-04-10T11:00:00Z") + milliseconds{1})) == "2026-04-10T12:00:00Z");
  CHECK(show(next_due(hourly, tz, anchor, utc("2026-04-12T10:30:00Z"))) == "2026-04-12T11:00:00Z");

  // 600 s after the anchor is 6.67 periods of 90 s: the 7th is at 630 s.
  const Spec ninety = parse_spec("interval", std::nullopt, "90s", std::nullopt);
  CHECK(show(next_due(ninety, tz, anchor, utc("2026-04-10T10:10:00Z"))) == "2026-04-10T10:10:30Z");
}

TEST_CASE("interval ignores the zone's daylight saving time: it counts elapsed time", "[schedule][due]") {
  const Spec daily = parse_spec("interval", std::nullopt, "1d", std::nullopt);
  const cctz::time_zone berlin = load_zone("Europe/Berlin");
  CHECK(show(next_due(daily, berlin, utc("2026-03-28T11:00:00Z"), utc("2026-03-28T12:00:00Z"))) ==
        "2026-03-29T11:00:00Z");
}

TEST_CASE("at: due once, at its time, and never after it", "[schedule][due]") {
  const Spec once = parse_spec("at", std::nullopt, std::nullopt, "2026-04-10T14:30:00Z");
  const cctz::time_zone tz = load_zone("UTC");
  const auto anchor = utc("2026-01-01T00:00:00Z");
  CHECK(show(next_due(once, tz, anchor, utc("2026-04-10T14:29:59Z"))) == "2026-04-10T14:30:00Z");
  CHECK(show(next_due(once, tz, anchor, utc("2026-04-10T14:30:00Z"))) == "none");
  CHECK(show(next_due(once, tz, anchor, utc("2027-01-01T00:00:00Z"))) == "none");
}

TEST_CASE("cron: due on the wall clock of the zone, whatever the anchor", "[schedule][due]") {
  const Spec nine = parse_spec("cron", "0 9 * * *", std::nullopt, std::nullopt);
  const auto anchor = utc("2020-01-01T00:00:00Z");
  // 09:00 CEST is 07:00Z; 09:00 in New York (EDT) is 13:00Z.
  CHECK(show(next_due(nine, load_zone("Europe/Berlin"), anchor, utc("2026-04-10T00:00:00Z"))) ==
        "2026-04-10T07:00:00Z");
  CHECK(show(next_due(nine, load_zone("America/New_York"), anchor, utc("2026-04-10T00:00:00Z"))) ==
        "2026-04-10T13:00:00Z");
  const Spec never = parse_spec("cron", "0 0 30 2 *", std::nullopt, std::nullopt);
  CHECK(show(next_due(never, load_zone("UTC"), anchor, utc("2026-04-10T00:00:00Z"))) == "none");
}
