#include "common/cron.hpp"

#include "common/time.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

// Expected instants below were worked out from each zone's rules (checked with
// `TZ=<zone> date -d <instant>` and `zdump -v`), not read back from the code:
//   Europe/Berlin 2026-03-29 01:00Z: 02:00 CET (+1) -> 03:00 CEST (+2), 02:00-02:59 skipped.
//   Europe/Berlin 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET, 02:00-02:59 twice.
//   America/New_York 2026-03-08 07:00Z: 02:00 EST (-5) -> 03:00 EDT (-4), 02:00-02:59 skipped.
//   America/New_York 2026-11-01 06:00Z: 02:00 EDT -> 01:00 EST, 01:00-01:59 twice.
//   Australia/Lord_Howe 2026-04-04 15:00Z: 02:00 +11 -> 01:30 +10:30, 01:30-01:59 twice.
//   Australia/Lord_Howe 2026-10-03 15:30Z: 02:00 +10:30 -> 02:30 +11, 02:00-02:29 skipped.

using namespace std::chrono;
using tether::cron::Expression;
using tether::cron::InvalidSchedule;

namespace {

system_clock::time_point utc(const std::string& text) {
  const auto when = tether::timeutil::parse_rfc3339(text);
  REQUIRE(when);
  return *when;
}

cctz::time_zone zone(const std::string& name) {
  cctz::time_zone tz;
  REQUIRE(cctz::load_time_zone(name, &tz));
  return tz;
}

// The next `count` fires after `from`, each found from the one before, in UTC.
std::vector<std::string> fires(const std::string& expr, const std::string& zone_name, const std::string& from,
                               int count) {
  const Expression expression = Expression::parse(expr);
  const cctz::time_zone tz = zone(zone_name);
  std::vector<std::string> out;
  system_clock::time_point after = utc(from);
  for (int i = 0; i < count; ++i) {
    const auto next = expression.next_after(after, tz);
    if (!next) break;
    out.push_back(tether::timeutil::format_utc(*next));
    after = *next;
  }
  return out;
}

std::string next_fire(const std::string& expr, const std::string& zone_name, const std::string& from) {
  const auto next = Expression::parse(expr).next_after(utc(from), zone(zone_name));
  return next ? tether::timeutil::format_utc(*next) : "none";
}

using Fires = std::vector<std::string>;

}  // namespace

// --- Europe/Berlin ----------------------------------------------------------------------------

TEST_CASE("Berlin spring forward: 02:30, which does not exist on 2026-03-29, fires once at 03:00 CEST",
          "[cron][dst]") {
  CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3) ==
        Fires{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"});
  // Asked again right at the fire, it does not fire a second time that day.
  CHECK(next_fire("30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z") == "2026-03-30T00:30:00Z");
}

TEST_CASE("Berlin spring forward: every quarter hour, the skipped 02:00-02:45 and 03:00 fire once together",
          "[cron][dst]") {
  CHECK(fires("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:20:00Z", 5) ==
        Fires{"2026-03-29T00:30:00Z", "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z",
              "2026-03-29T01:30:00Z"});
  CHECK(next_fire("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:50:00Z") == "2026-03-29T01:00:00Z");
  CHECK(next_fire("*/15 * * * *", "Europe/Berlin", "2026-03-29T00:59:59Z") == "2026-03-29T01:00:00Z");
}

TEST_CASE("Berlin spring forward: hourly fires every UTC hour, 02:00 and 03:00 being one instant", "[cron][dst]") {
  CHECK(fires("0 * * * *", "Europe/Berlin", "2026-03-28T22:30:00Z", 5) ==
        Fires{"2026-03-28T23:00:00Z", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z",
              "2026-03-29T03:00:00Z"});
}

TEST_CASE("Berlin spring forward: a skipped time and a later real time of the same day both fire", "[cron][dst]") {
  CHECK(fires("30 2,3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 3) ==
        Fires{"2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"});
}

TEST_CASE("Berlin fall back: 02:30, which happens twice on 2026-10-25, fires once at its first occurrence",
          "[cron][dst]") {
  CHECK(fires("30 2 * * *", "Europe/Berlin", "2026-10-23T12:00:00Z", 3) ==
        Fires{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"});
  // Not at 01:30Z (02:30 CET, the second occurrence), even when asked from inside the repeated hour.
  CHECK(next_fire("30 2 * * *", "Europe/Berlin", "2026-10-25T01:10:00Z") == "2026-10-26T01:30:00Z");
}

TEST_CASE("Berlin fall back: every half hour fires 02:00 and 02:30 once, then 03:00 CET", "[cron][dst]") {
  CHECK(fires("*/30 * * * *", "Europe/Berlin", "2026-10-24T23:20:00Z", 5) ==
        Fires{"2026-10-24T23:30:00Z", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z",
              "2026-10-25T02:30:00Z"});
  // From the end of the first pass and from inside the second pass, the next fire is 03:00 CET.
  CHECK(next_fire("*/30 * * * *", "Europe/Berlin", "2026-10-25T00:45:00Z") == "2026-10-25T02:00:00Z");
  CHECK(next_fire("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:00:00Z") == "2026-10-25T02:00:00Z");
  CHECK(next_fire("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:10:00Z") == "2026-10-25T02:00:00Z");
}

// --- America/New_York -------------------------------------------------------------------------

TEST_CASE("New York spring forward: 02:30 on 2026-03-08 fires once at 03:00 EDT", "[cron][dst]") {
  CHECK(fires("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2) ==
        Fires{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
}

TEST_CASE("New York spring forward: every 20 minutes, the skipped 02:00-02:40 and 03:00 fire once together",
          "[cron][dst]") {
  CHECK(fires("*/20 * * * *", "America/New_York", "2026-03-08T06:30:00Z", 4) ==
        Fires{"2026-03-08T06:40:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:20:00Z", "2026-03-08T07:40:00Z"});
}

TEST_CASE("New York fall back: 01:30 on 2026-11-01 fires once, at 01:30 EDT", "[cron][dst]") {
  CHECK(fires("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2) ==
        Fires{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
}

TEST_CASE("New York fall back: the repeated 01:00 and 01:30 fire once each", "[cron][dst]") {
  CHECK(fires("0,30 * * * *", "America/New_York", "2026-11-01T04:45:00Z", 4) ==
        Fires{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z"});
}

// --- Australia/Lord_Howe (a 30-minute shift) --------------------------------------------------

TEST_CASE("Lord Howe fall back: 01:45, repeated on 2026-04-05, fires once at its +11:00 occurrence",
          "[cron][dst]") {
  CHECK(fires("45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", 2) ==
        Fires{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"});
}

TEST_CASE("Lord Howe fall back: every quarter hour skips the second 01:30 and 01:45", "[cron][dst]") {
  CHECK(fires("*/15 * * * *", "Australia/Lord_Howe", "2026-04-04T14:20:00Z", 4) ==
        Fires{"2026-04-04T14:30:00Z", "2026-04-04T14:45:00Z", "2026-04-04T15:30:00Z", "2026-04-04T15:45:00Z"});
}

TEST_CASE("Lord Howe spring forward: 02:15, skipped on 2026-10-04, fires once at 02:30 +11:00", "[cron][dst]") {
  CHECK(fires("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 2) ==
        Fires{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"});
}

TEST_CASE("Lord Howe spring forward: every 10 minutes, the skipped 02:00-02:20 and 02:30 fire once together",
          "[cron][dst]") {
  CHECK(fires("*/10 * * * *", "Australia/Lord_Howe", "2026-10-03T15:15:00Z", 4) ==
        Fires{"2026-10-03T15:20:00Z", "2026-10-03T15:30:00Z", "2026-10-03T15:40:00Z", "2026-10-03T15:50:00Z"});
}

// --- days ----------------------------------------------------------------------------------------

TEST_CASE("day-of-month and day-of-week both restricted: a day matches when either does", "[cron]") {
  // April 2026: Fridays 3, 10, 17, 24; the 13th is a Monday. May: Fridays 1, 8, 15; the 13th a Wednesday.
  CHECK(fires("0 0 13 * FRI", "UTC", "2026-04-01T00:00:00Z", 9) ==
        Fires{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z", "2026-04-17T00:00:00Z",
              "2026-04-24T00:00:00Z", "2026-05-01T00:00:00Z", "2026-05-08T00:00:00Z", "2026-05-13T00:00:00Z",
              "2026-05-15T00:00:00Z"});
}

TEST_CASE("only day-of-week restricted: only those weekdays match", "[cron]") {
  CHECK(fires("0 0 * * FRI", "UTC", "2026-04-01T00:00:00Z", 5) ==
        Fires{"2026-04-03T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-17T00:00:00Z", "2026-04-24T00:00:00Z",
              "2026-05-01T00:00:00Z"});
}

TEST_CASE("only day-of-month restricted: only those days of the month match", "[cron]") {
  CHECK(fires("0 0 13 * *", "UTC", "2026-04-01T00:00:00Z", 3) ==
        Fires{"2026-04-13T00:00:00Z", "2026-05-13T00:00:00Z", "2026-06-13T00:00:00Z"});
}

TEST_CASE("a field starting with * counts as unrestricted for the either-day rule, as in Vixie cron", "[cron]") {
  // Odd days of the month that are Fridays: April 3 and 17, May 1 and 15.
  CHECK(fires("0 0 */2 * FRI", "UTC", "2026-04-01T00:00:00Z", 4) ==
        Fires{"2026-04-03T00:00:00Z", "2026-04-17T00:00:00Z", "2026-05-01T00:00:00Z", "2026-05-15T00:00:00Z"});
}

TEST_CASE("either-day rule agrees with a day-by-day check over three years", "[cron]") {
  struct Case {
    const char* expr;
    bool (*matches)(const year_month_day&, const weekday&);
  };
  const Case cases[] = {
      {"0 0 13 * FRI", [](const year_month_day& d, const weekday& w) { return d.day() == day{13} || w == Friday; }},
      {"0 0 1,15 * MON-WED",
       [](const year_month_day& d, const weekday& w) {
         return d.day() == day{1} || d.day() == day{15} || (w.c_encoding() >= 1 && w.c_encoding() <= 3);
       }},
      {"0 0 * 2 SUN", [](const year_month_day& d, const weekday& w) { return d.month() == February && w == Sunday; }},
      {"0 0 31 * *", [](const year_month_day& d, const weekday&) { return d.day() == day{31}; }},
      {"0 0 29 2 *", [](const year_month_day& d, const weekday&) {
         return d.month() == February && d.day() == day{29};
       }},
  };
  const cctz::time_zone tz = zone("UTC");
  for (const Case& c : cases) {
    INFO(c.expr);
    const Expression expression = Expression::parse(c.expr);
    std::vector<sys_days> expected;
    for (sys_days d = sys_days{year{2026} / January / 1}; d < sys_days{year{2029} / January / 1}; d += days{1}) {
      if (c.matches(year_month_day{d}, weekday{d})) expected.push_back(d);
    }
    std::vector<sys_days> got;
    system_clock::time_point after = sys_days{year{2025} / December / 31};
    for (;;) {
      const auto next = expression.next_after(after, tz);
      if (!next || *next >= sys_days{year{2029} / January / 1}) break;
      got.push_back(floor<days>(*next));
      after = *next;
    }
    CHECK(got == expected);
  }
}

TEST_CASE("Feb 29 fires in the next leap year; Feb 30 never fires", "[cron]") {
  CHECK(next_fire("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z");
  CHECK(next_fire("0 0 30 2 *", "UTC", "2026-03-01T00:00:00Z") == "none");
  CHECK(next_fire("0 0 31 4,6,9,11 *", "Europe/Berlin", "2026-03-01T00:00:00Z") == "none");
  // 2100 is no leap year: from 2097 the next Feb 29 is in 2104, more than 5 years on.
  CHECK(next_fire("0 0 29 2 *", "UTC", "2097-03-01T00:00:00Z") == "none");
}

TEST_CASE("a fire past the last instant a system_clock::time_point can hold is none", "[cron]") {
  const auto last = time_point_cast<seconds>(system_clock::time_point::max());
  CHECK(Expression::parse("* * * * *").next_after(last - hours{1}, zone("UTC")).has_value());
  CHECK_FALSE(Expression::parse("0 0 1 1 *").next_after(last - hours{1}, zone("UTC")).has_value());
}

// --- syntax --------------------------------------------------------------------------------------

TEST_CASE("names of months and weekdays are the numbers, in any case", "[cron][parse]") {
  CHECK(Expression::parse("0 0 * JAN-MAR MON-FRI") == Expression::parse("0 0 * 1-3 1-5"));
  CHECK(Expression::parse("0 0 * jan,Jul,DEC sun,sat") == Expression::parse("0 0 * 1,7,12 0,6"));
  CHECK(Expression::parse("0 0 * * 7") == Expression::parse("0 0 * * 0"));
  CHECK(Expression::parse("0 0 * * SUN") == Expression::parse("0 0 * * 0"));
  CHECK(Expression::parse("0 0 * * FRI-SUN") == Expression::parse("0 0 * * 5-7"));
  CHECK(Expression::parse("0 0 * * 5-7") == Expression::parse("0 0 * * 0,5,6"));
  CHECK_FALSE(Expression::parse("0 0 * * MON") == Expression::parse("0 0 * * TUE"));
}

TEST_CASE("ranges, lists and steps expand to the values they name", "[cron][parse]") {
  CHECK(Expression::parse("10-40/10 * * * *") == Expression::parse("10,20,30,40 * * * *"));
  CHECK(Expression::parse("5/15 * * * *") == Expression::parse("5,20,35,50 * * * *"));
  CHECK(Expression::parse("0 */6 * * *") == Expression::parse("0 0,6,12,18 * * *"));
  CHECK(Expression::parse("0 0 1-31/10 * *") == Expression::parse("0 0 1,11,21,31 * *"));
  CHECK(Expression::parse("0 0 * 2/5 *") == Expression::parse("0 0 * 2,7,12 *"));
  CHECK(Expression::parse("1-3,7,50-52 * * * *") == Expression::parse("1,2,3,7,50,51,52 * * * *"));
  CHECK(Expression::parse("07 08 * * *") == Expression::parse("7 8 * * *"));
  CHECK(Expression::parse(" \t0  0 *\t* *  ") == Expression::parse("0 0 * * *"));
}

TEST_CASE("steps over day-of-week stay within Sunday to Saturday", "[cron][parse]") {
  // 2026-04-05 is a Sunday: */2 is Sunday, Tuesday, Thursday, Saturday.
  CHECK(fires("0 0 * * */2", "UTC", "2026-04-04T12:00:00Z", 5) ==
        Fires{"2026-04-05T00:00:00Z", "2026-04-07T00:00:00Z", "2026-04-09T00:00:00Z", "2026-04-11T00:00:00Z",
              "2026-04-12T00:00:00Z"});
}

TEST_CASE("steps and ranges over hours and minutes fire at the expanded times", "[cron]") {
  CHECK(fires("*/20 9-17/4 * * *", "UTC", "2026-04-10T00:00:00Z", 10) ==
        Fires{"2026-04-10T09:00:00Z", "2026-04-10T09:20:00Z", "2026-04-10T09:40:00Z", "2026-04-10T13:00:00Z",
              "2026-04-10T13:20:00Z", "2026-04-10T13:40:00Z", "2026-04-10T17:00:00Z", "2026-04-10T17:20:00Z",
              "2026-04-10T17:40:00Z", "2026-04-11T09:00:00Z"});
}

TEST_CASE("macros are their 5-field equivalents, in any case", "[cron][parse]") {
  CHECK(Expression::parse("@hourly") == Expression::parse("0 * * * *"));
  CHECK(Expression::parse("@daily") == Expression::parse("0 0 * * *"));
  CHECK(Expression::parse("@midnight") == Expression::parse("0 0 * * *"));
  CHECK(Expression::parse("@weekly") == Expression::parse("0 0 * * 0"));
  CHECK(Expression::parse("@monthly") == Expression::parse("0 0 1 * *"));
  CHECK(Expression::parse("@yearly") == Expression::parse("0 0 1 1 *"));
  CHECK(Expression::parse("@annually") == Expression::parse("0 0 1 1 *"));
  CHECK(Expression::parse(" @DAILY ") == Expression::parse("0 0 * * *"));
}

TEST_CASE("next_after is strictly after, and a fraction of a second past a fire waits for the next", "[cron]") {
  const Expression every_minute = Expression::parse("* * * * *");
  const cctz::time_zone tz = zone("UTC");
  const auto at = utc("2026-04-10T14:30:00Z");
  CHECK(every_minute.next_after(at, tz) == at + minutes{1});
  CHECK(every_minute.next_after(at - nanoseconds{1}, tz) == at);
  CHECK(every_minute.next_after(at + milliseconds{500}, tz) == at + minutes{1});
}

TEST_CASE("parse errors say which field is wrong and why", "[cron][parse]") {
  CHECK_THROWS_WITH(Expression::parse("61 * * * *"), "minute: 61 is out of range 0-59");
  CHECK_THROWS_WITH(Expression::parse("0 24 * * *"), "hour: 24 is out of range 0-23");
  CHECK_THROWS_WITH(Expression::parse("0 0 0 * *"), "day-of-month: 0 is out of range 1-31");
  CHECK_THROWS_WITH(Expression::parse("0 0 32 * *"), "day-of-month: 32 is out of range 1-31");
  CHECK_THROWS_WITH(Expression::parse("0 0 * 13 *"), "month: 13 is out of range 1-12");
  CHECK_THROWS_WITH(Expression::parse("0 0 * * 8"), "day-of-week: 8 is out of range 0-7");
  CHECK_THROWS_WITH(Expression::parse("99999999999 * * * *"), "minute: 99999999999 is out of range 0-59");
  CHECK_THROWS_WITH(Expression::parse("* * * *"), "expected 5 fields, got 4");
  CHECK_THROWS_WITH(Expression::parse("* * * * * *"), "expected 5 fields, got 6");
  CHECK_THROWS_WITH(Expression::parse(""), "expected 5 fields, got 0");
  CHECK_THROWS_WITH(Expression::parse("0 0 * * FOO"), "day-of-week: unknown name \"FOO\"");
  CHECK_THROWS_WITH(Expression::parse("0 0 * * MON-FOO"), "day-of-week: unknown name \"FOO\"");
  CHECK_THROWS_WITH(Expression::parse("0 0 * JANUARY *"), "month: unknown name \"JANUARY\"");
  CHECK_THROWS_WITH(Expression::parse("x * * * *"), "minute: \"x\" is not a number");
  CHECK_THROWS_WITH(Expression::parse("0 0 * * 1x"), "day-of-week: \"1x\" is not a number or a name");
  CHECK_THROWS_WITH(Expression::parse("*/0 * * * *"), "minute: step 0 is out of range 1-59");
  CHECK_THROWS_WITH(Expression::parse("*/60 * * * *"), "minute: step 60 is out of range 1-59");
  CHECK_THROWS_WITH(Expression::parse("*/x * * * *"), "minute: step \"x\" is not a number");
  CHECK_THROWS_WITH(Expression::parse("*/ * * * *"), "minute: missing step in \"*/\"");
  CHECK_THROWS_WITH(Expression::parse("30-10 * * * *"), "minute: range \"30-10\" runs backwards");
  CHECK_THROWS_WITH(Expression::parse("0 0 * * SAT-MON"), "day-of-week: range \"SAT-MON\" runs backwards");
  CHECK_THROWS_WITH(Expression::parse("1,,2 * * * *"), "minute: empty list element in \"1,,2\"");
  CHECK_THROWS_WITH(Expression::parse("1, * * * *"), "minute: empty list element in \"1,\"");
  CHECK_THROWS_WITH(Expression::parse("1- * * * *"), "minute: missing value in \"1-\"");
  CHECK_THROWS_WITH(Expression::parse("@reboot"), Catch::Matchers::StartsWith("unknown macro \"@reboot\""));
  CHECK_THROWS_WITH(Expression::parse("@daily 5"), "expected 5 fields, got 2");
  CHECK_THROWS_AS(Expression::parse("61 * * * *"), std::invalid_argument);
}
