#include "controller/maintenance/window_schedule.hpp"

#include "common/time.hpp"

#include <cctz/time_zone.h>

#include <algorithm>
#include <string>

namespace tether::maintenance {
namespace {

// Occurrences of a recurring window looked at in one pass (joined occurrences, suppressed starts):
// a bound on the work, reached only by a cron line firing far more often than the window lasts.
constexpr int max_steps = 1000;
constexpr std::chrono::microseconds just_before{1};

std::optional<TimePoint> next_recurring_after(const Schedule& schedule, TimePoint t) {
  if (!schedule.recurring) return std::nullopt;
  auto from = t;
  // None starts before `start`: search from just before it (an occurrence may start at it).
  if (schedule.start && *schedule.start - just_before > from) from = *schedule.start - just_before;
  return schedule.recurring->next_after(from, schedule.zone);
}

}  // namespace

std::optional<Occurrence> occurrence_at(const Schedule& schedule, TimePoint t) {
  if (!schedule.recurring) {
    if (schedule.start && schedule.end && *schedule.start <= t && t < *schedule.end) {
      return Occurrence{*schedule.start, *schedule.end};
    }
    return std::nullopt;
  }
  if (schedule.duration <= std::chrono::seconds::zero()) return std::nullopt;
  // The first occurrence starting after t - duration covers t when it starts by t.
  const auto first = next_recurring_after(schedule, t - schedule.duration);
  if (!first || *first > t) return std::nullopt;
  Occurrence occurrence{*first, *first + schedule.duration};
  // Later occurrences that start before this one ends (or as it ends) extend it.
  auto last = *first;
  for (int step = 0; step < max_steps; ++step) {
    const auto next = next_recurring_after(schedule, last);
    if (!next || *next > occurrence.end) break;
    occurrence.end = std::max(occurrence.end, *next + schedule.duration);
    last = *next;
  }
  return occurrence;
}

std::optional<TimePoint> next_start_after(const Schedule& schedule, TimePoint t) {
  if (!schedule.recurring) {
    if (schedule.start && *schedule.start > t) return schedule.start;
    return std::nullopt;
  }
  return next_recurring_after(schedule, t);
}

Activity activity_at(const Schedule& schedule, const ManualState& manual, bool enabled, TimePoint t) {
  Activity activity;
  if (!enabled) return activity;
  const bool by_hand = manual.activated_at && *manual.activated_at <= t &&
                       (!manual.activated_until || t < *manual.activated_until);
  auto occurrence = occurrence_at(schedule, t);
  if (occurrence && manual.suppressed_until && t < *manual.suppressed_until) occurrence.reset();
  activity.by_hand = by_hand;
  activity.active = by_hand || occurrence.has_value();
  if (by_hand) {
    if (manual.activated_until) {
      activity.until = occurrence ? std::max(*manual.activated_until, occurrence->end) : *manual.activated_until;
    }
  } else if (occurrence) {
    activity.until = occurrence->end;
  }
  // The next occurrence that will make it active again (after the one in progress, if any).
  auto next = next_start_after(schedule, occurrence ? std::max(t, occurrence->end) : t);
  for (int step = 0; step < max_steps && next && manual.suppressed_until && *next < *manual.suppressed_until; ++step) {
    next = next_start_after(schedule, *next);
  }
  if (next && manual.suppressed_until && *next < *manual.suppressed_until) next.reset();
  activity.next_start = next;
  return activity;
}

std::optional<TimePoint> activation_end(const Schedule& schedule, TimePoint now) {
  if (const auto occurrence = occurrence_at(schedule, now)) return occurrence->end;
  if (!schedule.recurring) {
    if (schedule.end && *schedule.end > now) return schedule.end;
    return std::nullopt;
  }
  return now + schedule.duration;
}

std::optional<TimePoint> parse_time_in_zone(std::string_view text, const cctz::time_zone& zone) {
  if (auto absolute = timeutil::parse_rfc3339(text)) return absolute;
  const std::string input(text);
  for (const char* format : {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"}) {
    std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds> parsed;
    if (cctz::parse(format, input, zone, &parsed)) {
      return std::chrono::time_point_cast<std::chrono::system_clock::duration>(parsed);
    }
  }
  return std::nullopt;
}

}  // namespace tether::maintenance
