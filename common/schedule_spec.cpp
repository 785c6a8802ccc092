#include "common/schedule_spec.hpp"

#include "common/time.hpp"

#include <array>
#include <cstdint>

namespace tether::schedule {
namespace {

constexpr std::int64_t kMaxDurationSeconds = 366LL * 86400;

struct Unit {
  char letter;
  std::int64_t seconds;
};
constexpr std::array<Unit, 4> kUnits{{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};

std::string prefixed(std::string_view field, std::string_view what) {
  std::string message(field);
  message += ": ";
  message += what;
  return message;
}

}  // namespace

std::chrono::seconds parse_duration(std::string_view text, std::string_view field) {
  const auto malformed = [&] {
    return InvalidSchedule(prefixed(field, "must be a duration such as 30s, 5m, 2h or 1d"));
  };
  if (text.empty()) throw malformed();
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must come in the order d, h, m, s, each at most once
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t number = 0;
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxDurationSeconds) number = kMaxDurationSeconds + 1;  // too long either way
      ++i;
    }
    if (i == start || i == text.size()) throw malformed();
    std::size_t unit = next_unit;
    while (unit < kUnits.size() && kUnits[unit].letter != text[i]) ++unit;
    if (unit == kUnits.size()) throw malformed();
    next_unit = unit + 1;
    ++i;
    total += number * kUnits[unit].seconds;
    if (total > kMaxDurationSeconds) throw InvalidSchedule(prefixed(field, "must be at most 366d"));
  }
  if (total == 0) throw InvalidSchedule(prefixed(field, "must be greater than 0"));
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds duration) {
  const std::int64_t seconds = duration.count();
  if (seconds == 0) return "0s";
  for (const Unit& unit : kUnits) {
    if (seconds % unit.seconds == 0) return std::to_string(seconds / unit.seconds) + unit.letter;
  }
  return std::to_string(seconds) + "s";
}

cctz::time_zone load_zone(const std::string& name) {
  const auto unknown = [&] { return InvalidSchedule("timezone: unknown time zone \"" + name + "\""); };
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.find("..") != std::string::npos ||
      name == "localtime") {
    throw unknown();
  }
  for (const char c : name) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                         c == '+' || c == '-' || c == '/';
    if (!allowed) throw unknown();
  }
  cctz::time_zone zone;
  if (!cctz::load_time_zone(name, &zone)) throw unknown();
  return zone;
}

std::string_view mode_name(Spec::Mode mode) {
  switch (mode) {
    case Spec::Mode::cron: return "cron";
    case Spec::Mode::interval: return "interval";
    case Spec::Mode::at: return "at";
  }
  return "cron";
}

Spec parse_spec(std::string_view mode, std::optional<std::string_view> expr, std::optional<std::string_view> interval,
                std::optional<std::string_view> time) {
  const auto given = [](const std::optional<std::string_view>& field) { return field && !field->empty(); };
  Spec spec;
  if (mode == "cron") {
    spec.mode = Spec::Mode::cron;
    if (!given(expr)) throw InvalidSchedule("schedule.expr: is required for mode cron");
    try {
      spec.cron = cron::Expression::parse(*expr);
    } catch (const InvalidSchedule& e) {
      throw InvalidSchedule(prefixed("schedule.expr", e.what()));
    }
    spec.expr = std::string(*expr);
  } else if (mode == "interval") {
    spec.mode = Spec::Mode::interval;
    if (!given(interval)) throw InvalidSchedule("schedule.interval: is required for mode interval");
    spec.interval = parse_duration(*interval, "schedule.interval");
  } else if (mode == "at") {
    spec.mode = Spec::Mode::at;
    if (!given(time)) throw InvalidSchedule("schedule.time: is required for mode at");
    spec.at = timeutil::parse_rfc3339(*time);
    if (!spec.at) {
      throw InvalidSchedule("schedule.time: must be an RFC 3339 date-time such as 2026-04-10T14:30:00Z");
    }
  } else {
    throw InvalidSchedule("schedule.mode: must be one of cron, interval, at");
  }
  return spec;
}

std::optional<std::chrono::system_clock::time_point> next_due(const Spec& spec, const cctz::time_zone& zone,
                                                              std::chrono::system_clock::time_point anchor,
                                                              std::chrono::system_clock::time_point after) {
  switch (spec.mode) {
    case Spec::Mode::cron:
      if (!spec.cron) return std::nullopt;
      return spec.cron->next_after(after, zone);
    case Spec::Mode::interval: {
      if (spec.interval <= std::chrono::seconds::zero()) return std::nullopt;
      if (anchor > after) return anchor;
      const std::chrono::system_clock::duration step = spec.interval;
      const auto periods = (after - anchor) / step + 1;  // the smallest k with anchor + k * step > after
      return anchor + periods * step;
    }
    case Spec::Mode::at:
      if (spec.at && *spec.at > after) return spec.at;
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tether::schedule
