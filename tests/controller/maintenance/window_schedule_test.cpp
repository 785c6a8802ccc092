// When a maintenance window is active, at fixed times: one-time windows, recurring ones across
// midnight and across daylight saving changes in Europe/Berlin, the `start` bound, joined
// occurrences, activate and deactivate, and the times seed 000 writes without an offset.
#include "controller/maintenance/window_schedule.hpp"

#include "common/schedule_spec.hpp"
#include "common/time.hpp"

#include <catch2/catch.hpp>

using namespace tether;
using namespace std::chrono_literals;
using maintenance::TimePoint;

namespace {

TimePoint at(const char* rfc3339) { return *timeutil::parse_rfc3339(rfc3339); }

std::string text(const std::optional<TimePoint>& when) {
  return when ? timeutil::format_utc(*when) : std::string("none");
}

maintenance::Schedule one_time(const char* start, const char* end) {
  maintenance::Schedule s;
  s.start = at(start);
  s.end = at(end);
  return s;
}

maintenance::Schedule recurring(const char* cron, std::chrono::seconds duration, const char* zone = "UTC") {
  maintenance::Schedule s;
  s.recurring = cron::Expression::parse(cron);
  s.duration = duration;
  s.zone = schedule::load_zone(zone);
  return s;
}

maintenance::Activity activity(const maintenance::Schedule& s, const char* when, maintenance::ManualState manual = {}) {
  return maintenance::activity_at(s, manual, true, at(when));
}

}  // namespace

TEST_CASE("a one-time window is active from its start to just before its end", "[maintenance]") {
  const auto s = one_time("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z");
  CHECK_FALSE(activity(s, "2026-12-01T09:59:59Z").active);
  CHECK(text(activity(s, "2026-12-01T09:00:00Z").next_start) == "2026-12-01T10:00:00Z");
  const auto inside = activity(s, "2026-12-01T10:00:00Z");
  CHECK(inside.active);
  CHECK_FALSE(inside.by_hand);
  CHECK(text(inside.until) == "2026-12-01T11:00:00Z");
  CHECK(activity(s, "2026-12-01T10:59:59Z").active);
  const auto after = activity(s, "2026-12-01T11:00:00Z");
  CHECK_FALSE(after.active);
  CHECK_FALSE(after.next_start);
  CHECK_FALSE(maintenance::activity_at(s, {}, false, at("2026-12-01T10:30:00Z")).active);  // disabled
}

TEST_CASE("a recurring window's occurrence runs across midnight into the next day", "[maintenance]") {
  const auto s = recurring("30 23 * * *", 2h);
  const auto late = activity(s, "2026-12-01T23:45:00Z");
  CHECK(late.active);
  CHECK(text(late.until) == "2026-12-02T01:30:00Z");
  const auto next_day = activity(s, "2026-12-02T01:00:00Z");  // the occurrence that began the day before
  CHECK(next_day.active);
  CHECK(text(next_day.until) == "2026-12-02T01:30:00Z");
  CHECK(text(next_day.next_start) == "2026-12-02T23:30:00Z");
  const auto over = activity(s, "2026-12-02T01:30:00Z");
  CHECK_FALSE(over.active);
  CHECK(text(over.next_start) == "2026-12-02T23:30:00Z");
  CHECK_FALSE(activity(s, "2026-12-02T23:29:59Z").active);
}

TEST_CASE("a recurring window follows its zone's wall clock across daylight saving changes", "[maintenance]") {
  // Europe/Berlin: 02:30 every day for an hour of elapsed time.
  const auto s = recurring("30 2 * * *", 1h, "Europe/Berlin");
  // CET (+01:00): 02:30 is 01:30Z.
  CHECK(text(activity(s, "2026-03-28T01:45:00Z").until) == "2026-03-28T02:30:00Z");
  // Spring forward on 2026-03-29: 02:30 does not exist; it starts when the clock jumps (01:00Z).
  CHECK_FALSE(activity(s, "2026-03-29T00:59:00Z").active);
  const auto gap = activity(s, "2026-03-29T01:30:00Z");
  CHECK(gap.active);
  CHECK(text(gap.until) == "2026-03-29T02:00:00Z");
  CHECK(text(gap.next_start) == "2026-03-30T00:30:00Z");  // CEST (+02:00) from then on
  CHECK(activity(s, "2026-03-30T00:30:00Z").active);
  // Fall back on 2026-10-25: 02:30 comes twice; the window starts once, at the first (00:30Z).
  const auto first = activity(s, "2026-10-25T01:15:00Z");  // 02:15 CET, the second pass
  CHECK(first.active);
  CHECK(text(first.until) == "2026-10-25T01:30:00Z");
  CHECK_FALSE(activity(s, "2026-10-25T01:45:00Z").active);  // 02:45 CET: no second start
}

TEST_CASE("a recurring window starts no occurrence before its start", "[maintenance]") {
  auto s = recurring("0 3 * * 0", 1h);  // Sundays 03:00
  s.start = at("2026-12-13T03:00:00Z");
  CHECK_FALSE(activity(s, "2026-12-06T03:30:00Z").active);
  CHECK(text(activity(s, "2026-12-06T03:30:00Z").next_start) == "2026-12-13T03:00:00Z");
  CHECK(activity(s, "2026-12-13T03:00:00Z").active);
  CHECK(activity(s, "2026-12-20T03:59:59Z").active);
}

TEST_CASE("occurrences that overlap join into one", "[maintenance]") {
  const auto s = recurring("0 * * * *", 90min);  // hourly, each lasting 90 minutes: never a gap
  const auto occurrence = maintenance::occurrence_at(s, at("2026-12-01T10:10:00Z"));
  REQUIRE(occurrence);
  CHECK(text(occurrence->start) == "2026-12-01T09:00:00Z");
  CHECK(occurrence->end > at("2026-12-02T10:00:00Z"));
}

TEST_CASE("activate holds a window active by hand; deactivate ends the occurrence in progress only", "[maintenance]") {
  const auto s = recurring("0 3 * * *", 1h);
  // Between occurrences: one duration from now.
  const auto now = at("2026-12-01T12:00:00Z");
  CHECK(text(maintenance::activation_end(s, now)) == "2026-12-01T13:00:00Z");
  maintenance::ManualState manual{now, maintenance::activation_end(s, now), std::nullopt};
  const auto held = activity(s, "2026-12-01T12:30:00Z", manual);
  CHECK(held.active);
  CHECK(held.by_hand);
  CHECK(text(held.until) == "2026-12-01T13:00:00Z");
  CHECK_FALSE(activity(s, "2026-12-01T13:00:00Z", manual).active);
  // During an occurrence: to its end.
  CHECK(text(maintenance::activation_end(s, at("2026-12-02T03:10:00Z"))) == "2026-12-02T04:00:00Z");

  // Deactivated at 03:20: off until the occurrence would have ended, back the next day.
  const maintenance::ManualState off{std::nullopt, std::nullopt, at("2026-12-02T04:00:00Z")};
  const auto quiet = activity(s, "2026-12-02T03:30:00Z", off);
  CHECK_FALSE(quiet.active);
  CHECK(text(quiet.next_start) == "2026-12-03T03:00:00Z");
  CHECK(activity(s, "2026-12-03T03:00:00Z", off).active);

  // A one-time window: activating early runs to its end; after its end, until deactivated.
  const auto once = one_time("2026-12-05T10:00:00Z", "2026-12-05T11:00:00Z");
  CHECK(text(maintenance::activation_end(once, now)) == "2026-12-05T11:00:00Z");
  CHECK_FALSE(maintenance::activation_end(once, at("2026-12-06T00:00:00Z")));
  const maintenance::ManualState forever{at("2026-12-06T00:00:00Z"), std::nullopt, std::nullopt};
  const auto open = activity(once, "2027-01-01T00:00:00Z", forever);
  CHECK(open.active);
  CHECK_FALSE(open.until);
}

TEST_CASE("seed 000's times without an offset are read in the window's zone", "[maintenance]") {
  const auto berlin = schedule::load_zone("Europe/Berlin");
  CHECK(text(maintenance::parse_time_in_zone("2026-03-22T03:00:00", berlin)) == "2026-03-22T02:00:00Z");
  CHECK(text(maintenance::parse_time_in_zone("2026-07-22T03:00:00", berlin)) == "2026-07-22T01:00:00Z");
  CHECK(text(maintenance::parse_time_in_zone("2026-07-22 03:00", berlin)) == "2026-07-22T01:00:00Z");
  CHECK(text(maintenance::parse_time_in_zone("2026-07-22T03:00:00Z", berlin)) == "2026-07-22T03:00:00Z");
  CHECK(text(maintenance::parse_time_in_zone("2026-07-22T03:00:00+05:00", berlin)) == "2026-07-21T22:00:00Z");
  CHECK(text(maintenance::parse_time_in_zone("2026-03-22T03:00:00", cctz::utc_time_zone())) == "2026-03-22T03:00:00Z");
  CHECK_FALSE(maintenance::parse_time_in_zone("next sunday", berlin));
  CHECK_FALSE(maintenance::parse_time_in_zone("2026-02-30T03:00:00", berlin));
  CHECK_FALSE(maintenance::parse_time_in_zone("", berlin));
}
