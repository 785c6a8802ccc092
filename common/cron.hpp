#pragma once
#include <cctz/time_zone.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace tether::cron {

// A schedule that cannot be parsed or validated; what() says what is wrong (and, from
// tether::schedule, which field).
class InvalidSchedule : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A 5-field cron expression (minute hour day-of-month month day-of-week), matched on the wall clock
// of a time zone.
//
// - Each field is a comma-separated list of `*`, `a`, `a-b`, `*/n`, `a-b/n` or `a/n` (a through the
//   field's last value, every n). Minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or
//   JAN-DEC, day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT; names are case-insensitive, and SUN
//   closing a range means 7 (`FRI-SUN`).
// - Macros: @yearly and @annually (0 0 1 1 *), @monthly (0 0 1 * *), @weekly (0 0 * * 0),
//   @daily and @midnight (0 0 * * *), @hourly (0 * * * *).
// - Days as Vixie cron has them: when day-of-month and day-of-week are both restricted, a day
//   matches if either does; otherwise both must. As in Vixie cron, a field is unrestricted when it
//   starts with `*`, so `*/2` counts as unrestricted for this rule.
class Expression {
 public:
  // Throws InvalidSchedule, e.g. "minute: 61 is out of range 0-59", "expected 5 fields, got 4",
  // "day-of-week: unknown name \"FOO\"".
  static Expression parse(std::string_view text);

  // The first fire instant strictly after `after`, evaluated on the wall clock of `zone`; nullopt
  // when there is none within 5 years of `after` (e.g. "0 0 30 2 *").
  //
  // Daylight saving time: a wall-clock time skipped by a spring-forward gap fires once, at the end
  // of the gap (the transition instant); all the skipped times of one gap, and the first valid
  // time after it, are that one instant and fire once together. A wall-clock time that a
  // fall-back repeats fires once, at its first occurrence.
  std::optional<std::chrono::system_clock::time_point> next_after(std::chrono::system_clock::time_point after,
                                                                  const cctz::time_zone& zone) const;

  bool operator==(const Expression&) const = default;

 private:
  Expression() = default;

  // The first wall-clock minute at or after `from` that matches, if it is on or before `last_day`.
  std::optional<cctz::civil_minute> next_match(cctz::civil_minute from, cctz::civil_day last_day) const;
  bool day_matches(const cctz::civil_day& day) const;

  std::uint64_t minutes_ = 0;  // bit m: minute m
  std::uint32_t hours_ = 0;    // bit h: hour h
  std::uint32_t days_ = 0;     // bit d: day-of-month d (1-31)
  std::uint16_t months_ = 0;   // bit m: month m (1-12)
  std::uint8_t weekdays_ = 0;  // bit w: day-of-week w (0 = Sunday ... 6 = Saturday)
  bool days_unrestricted_ = false;
  bool weekdays_unrestricted_ = false;
};

}  // namespace tether::cron
