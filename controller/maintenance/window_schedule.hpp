#pragma once
// When a maintenance window is active: pure time arithmetic over a window's declaration and its
// hand-set state, on the scheduler's cron code (common/cron.hpp), so that it is tested with fixed
// times and no database.
//
// - One-time: active on [start, end).
// - Recurring: each instant the cron line fires (on the wall clock of the window's zone, with the
//   scheduler's rules for DST gaps and repeats) starts an occurrence lasting `duration` of elapsed
//   time; none starts before `start` when it is set. Occurrences that overlap or touch join into
//   one.
// - By hand: activate makes it active from then until activated_until (none: until deactivated);
//   deactivate ends the occurrence in progress early (suppressed_until: its end), so that a
//   recurring window comes back at its next occurrence.
// - A window that is not enabled is never active.
#include "common/cron.hpp"

#include <cctz/time_zone.h>

#include <chrono>
#include <optional>
#include <string_view>

namespace tether::maintenance {

using TimePoint = std::chrono::system_clock::time_point;

struct Schedule {
  std::optional<TimePoint> start, end;       // one-time: both; recurring: start bounds, end unused
  std::optional<cron::Expression> recurring;  // none: one-time
  std::chrono::seconds duration{0};           // recurring: each occurrence's length
  cctz::time_zone zone = cctz::utc_time_zone();
};

struct ManualState {
  std::optional<TimePoint> activated_at;
  std::optional<TimePoint> activated_until;  // with activated_at: none means until deactivated
  std::optional<TimePoint> suppressed_until;
};

struct Occurrence {
  TimePoint start, end;
};

// The scheduled occurrence in progress at `t` (start <= t < end), hand-set state aside.
std::optional<Occurrence> occurrence_at(const Schedule& schedule, TimePoint t);
// The start of the first scheduled occurrence strictly after `t`.
std::optional<TimePoint> next_start_after(const Schedule& schedule, TimePoint t);

struct Activity {
  bool active = false;
  bool by_hand = false;             // activated by hand (and still within that activation)
  std::optional<TimePoint> until;   // when active: when it stops being so; none: until deactivated
  std::optional<TimePoint> next_start;  // the next scheduled occurrence's start after t, not suppressed
};

Activity activity_at(const Schedule& schedule, const ManualState& manual, bool enabled, TimePoint t);

// How long `activate` at `now` lasts: to the end of the occurrence in progress; else, one-time, to
// its end when that is ahead (it starts early); else, recurring, one duration from now; else (a
// one-time window whose end has passed) until deactivated (nullopt).
std::optional<TimePoint> activation_end(const Schedule& schedule, TimePoint now);

// A time as seed 000 writes it, "2026-03-22T03:00:00" (seconds optional, a space for the T
// allowed), read on the wall clock of `zone` (as cron reads it: a local time skipped by a
// spring-forward gap is the instant of the change, one repeated by a fall-back its first
// occurrence), or RFC 3339 with Z or an offset. nullopt when it is neither.
std::optional<TimePoint> parse_time_in_zone(std::string_view text, const cctz::time_zone& zone);

}  // namespace tether::maintenance
