#pragma once
#include "common/cron.hpp"

#include <cctz/time_zone.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

// A job's schedule as seed 002 has it: {mode, expr, interval, time}.
namespace tether::schedule {

using cron::InvalidSchedule;

// A duration written as one or more <number><unit> with units d, h, m, s, each at most once and in
// that order: "30s", "5m", "2h", "1d", "90s", "1h30m". Greater than 0 and at most 366d. Throws
// InvalidSchedule("<field>: must be a duration such as 30s, 5m, 2h or 1d") when it is not one, and
// "<field>: must be greater than 0" / "<field>: must be at most 366d" when it is out of range.
std::chrono::seconds parse_duration(std::string_view text, std::string_view field);

// The largest unit that divides the duration exactly: 86400s -> "1d", 3600s -> "1h", 5400s -> "90m",
// 90s -> "90s", 0s -> "0s". parse_duration reads every result back to the same value.
std::string format_duration(std::chrono::seconds duration);

// Loads an IANA zone ("Europe/Berlin", "UTC") from the system database. The name may hold only
// [A-Za-z0-9_+-/], must not be empty, start with "/" or hold "..", and "localtime" (the machine's
// own zone, not a name) is refused. Throws InvalidSchedule("timezone: unknown time zone \"X\"").
cctz::time_zone load_zone(const std::string& name);

struct Spec {
  enum class Mode { cron, interval, at } mode = Mode::cron;
  std::string expr;                                         // mode cron: the expression as given
  std::chrono::seconds interval{0};                         // mode interval
  std::optional<std::chrono::system_clock::time_point> at;  // mode at
  std::optional<cron::Expression> cron;                     // mode cron: expr, parsed
};

// "cron", "interval" or "at".
std::string_view mode_name(Spec::Mode mode);

// Validates a seed-002 schedule. Mode "cron" needs expr, "interval" needs interval (a duration as
// parse_duration takes it), "at" needs time (RFC 3339). The fields the mode does not use are
// ignored, so a schedule read back with empty strings in them is accepted. Throws InvalidSchedule
// naming the field: "schedule.mode: must be one of cron, interval, at", "schedule.expr: is required
// for mode cron", "schedule.expr: minute: 61 is out of range 0-59", "schedule.interval: ...",
// "schedule.time: ...". An absent field and an empty one are the same.
Spec parse_spec(std::string_view mode, std::optional<std::string_view> expr, std::optional<std::string_view> interval,
                std::optional<std::string_view> time);

// The next due instant strictly after `after`: cron -> Expression::next_after in `zone`;
// interval -> anchor + k * interval for the smallest k >= 0 with a result after `after` (anchor:
// the job's first due time, or its creation time); at -> the time if it is after `after`, else
// nullopt. `zone` matters only to cron.
std::optional<std::chrono::system_clock::time_point> next_due(const Spec& spec, const cctz::time_zone& zone,
                                                              std::chrono::system_clock::time_point anchor,
                                                              std::chrono::system_clock::time_point after);

}  // namespace tether::schedule
