#include "common/cron.hpp"

#include <array>
#include <bit>
#include <cctype>
#include <string>
#include <vector>

namespace tether::cron {
namespace {

struct Field {
  const char* name;
  int min;
  int max;       // the highest value that may be written (7 for day-of-week)
  int open_max;  // where `*` and `a/n` end (6 for day-of-week: 7 is Sunday again)
  const std::array<std::string_view, 12>* names;  // names[i] is value names_base + i
  int names_base;
  std::size_t name_count;
};

constexpr std::array<std::string_view, 12> kMonthNames{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> kDayNames{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr Field kMinute{"minute", 0, 59, 59, nullptr, 0, 0};
constexpr Field kHour{"hour", 0, 23, 23, nullptr, 0, 0};
constexpr Field kDayOfMonth{"day-of-month", 1, 31, 31, nullptr, 0, 0};
constexpr Field kMonth{"month", 1, 12, 12, &kMonthNames, 1, 12};
constexpr Field kDayOfWeek{"day-of-week", 0, 7, 6, &kDayNames, 0, 7};

[[noreturn]] void fail(const Field& field, const std::string& what) {
  throw InvalidSchedule(std::string(field.name) + ": " + what);
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool all_of(std::string_view text, int (*predicate)(int)) {
  for (const char c : text) {
    if (!predicate(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// One value of a field: a number within the field's range, or a name where the field has names.
// `ends_range`: SUN closing a range (FRI-SUN) is 7.
int parse_value(const Field& field, std::string_view token, std::string_view item, bool ends_range) {
  if (token.empty()) fail(field, "missing value in " + quoted(item));
  if (all_of(token, ::isdigit)) {
    const std::string_view digits = token.substr(std::min(token.find_first_not_of('0'), token.size()));
    if (digits.size() > 4) {
      fail(field, std::string(token) + " is out of range " + std::to_string(field.min) + "-" + std::to_string(field.max));
    }
    int value = 0;
    for (const char c : digits) value = value * 10 + (c - '0');
    if (value < field.min || value > field.max) {
      fail(field, std::to_string(value) + " is out of range " + std::to_string(field.min) + "-" +
                      std::to_string(field.max));
    }
    return value;
  }
  if (field.names != nullptr && all_of(token, ::isalpha)) {
    for (std::size_t i = 0; i < field.name_count; ++i) {
      if (iequals(token, (*field.names)[i])) {
        const int value = field.names_base + static_cast<int>(i);
        return (ends_range && &field == &kDayOfWeek && value == 0) ? 7 : value;
      }
    }
    fail(field, "unknown name " + quoted(token));
  }
  fail(field, quoted(token) + " is not a number" + (field.names != nullptr ? " or a name" : ""));
}

// Parses one field into a bit set (bit v for value v; day-of-week 7 is set as 0).
std::uint64_t parse_field(const Field& field, std::string_view text) {
  std::uint64_t bits = 0;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = text.find(',', begin);
    const std::string_view item = text.substr(begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin);
    if (item.empty()) fail(field, "empty list element in " + quoted(text));

    std::string_view base = item;
    int step = 1;
    bool stepped = false;
    if (const std::size_t slash = item.find('/'); slash != std::string_view::npos) {
      base = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      if (step_text.empty()) fail(field, "missing step in " + quoted(item));
      const int max_step = field.max - field.min;
      if (!all_of(step_text, ::isdigit)) fail(field, "step " + quoted(step_text) + " is not a number");
      const std::string_view digits = step_text.substr(std::min(step_text.find_first_not_of('0'), step_text.size()));
      step = 0;
      if (digits.size() > 4) {
        step = max_step + 1;
      } else {
        for (const char c : digits) step = step * 10 + (c - '0');
      }
      if (step < 1 || step > max_step) {
        fail(field, "step " + std::string(step_text) + " is out of range 1-" + std::to_string(max_step));
      }
      stepped = true;
    }

    int low = 0;
    int high = 0;
    if (base == "*") {
      low = field.min;
      high = field.open_max;
    } else if (const std::size_t dash = base.find('-'); dash != std::string_view::npos) {
      low = parse_value(field, base.substr(0, dash), item, false);
      high = parse_value(field, base.substr(dash + 1), item, true);
      if (low > high) fail(field, "range " + quoted(base) + " runs backwards");
    } else {
      low = parse_value(field, base, item, false);
      high = stepped ? std::max(low, field.open_max) : low;
    }
    for (int value = low; value <= high; value += step) {
      bits |= std::uint64_t{1} << ((&field == &kDayOfWeek && value == 7) ? 0 : value);
    }

    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return bits;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t begin = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > begin) fields.push_back(text.substr(begin, i - begin));
  }
  return fields;
}

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> kMacros{{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// The lowest set bit at or above `from`, or -1.
int next_bit(std::uint64_t bits, int from) {
  if (from >= 64) return -1;
  const std::uint64_t rest = bits & (~std::uint64_t{0} << from);
  return rest == 0 ? -1 : std::countr_zero(rest);
}

int weekday_index(const cctz::civil_day& day) {  // 0 = Sunday ... 6 = Saturday
  switch (cctz::get_weekday(day)) {
    case cctz::weekday::sunday: return 0;
    case cctz::weekday::monday: return 1;
    case cctz::weekday::tuesday: return 2;
    case cctz::weekday::wednesday: return 3;
    case cctz::weekday::thursday: return 4;
    case cctz::weekday::friday: return 5;
    case cctz::weekday::saturday: return 6;
  }
  return 0;
}

constexpr auto kLatest = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::time_point::max());

}  // namespace

Expression Expression::parse(std::string_view text) {
  std::vector<std::string_view> fields = split_fields(text);
  if (fields.size() == 1 && fields[0].starts_with('@')) {
    for (const Macro& macro : kMacros) {
      if (iequals(fields[0], macro.name)) return parse(macro.expansion);
    }
    throw InvalidSchedule("unknown macro " + quoted(fields[0]) +
                          " (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)");
  }
  if (fields.size() != 5) {
    throw InvalidSchedule("expected 5 fields, got " + std::to_string(fields.size()));
  }
  Expression expression;
  expression.minutes_ = parse_field(kMinute, fields[0]);
  expression.hours_ = static_cast<std::uint32_t>(parse_field(kHour, fields[1]));
  expression.days_ = static_cast<std::uint32_t>(parse_field(kDayOfMonth, fields[2]));
  expression.months_ = static_cast<std::uint16_t>(parse_field(kMonth, fields[3]));
  expression.weekdays_ = static_cast<std::uint8_t>(parse_field(kDayOfWeek, fields[4]));
  expression.days_unrestricted_ = fields[2].starts_with('*');
  expression.weekdays_unrestricted_ = fields[4].starts_with('*');
  return expression;
}

bool Expression::day_matches(const cctz::civil_day& day) const {
  const bool by_month = (days_ >> day.day()) & 1U;
  const bool by_week = (weekdays_ >> weekday_index(day)) & 1U;
  if (days_unrestricted_ || weekdays_unrestricted_) return by_month && by_week;
  return by_month || by_week;
}

std::optional<cctz::civil_minute> Expression::next_match(cctz::civil_minute from, cctz::civil_day last_day) const {
  cctz::civil_minute t = from;
  for (;;) {
    const cctz::civil_day day(t);
    if (day > last_day) return std::nullopt;

    const int month = next_bit(months_, t.month());
    if (month != t.month()) {  // on to the first day of the next month that can match
      t = month > 0 ? cctz::civil_minute(t.year(), month, 1, 0, 0)
                    : cctz::civil_minute(t.year() + 1, next_bit(months_, 1), 1, 0, 0);
      continue;
    }
    if (!day_matches(day)) {
      t = cctz::civil_minute(day + 1);
      continue;
    }
    const int hour = next_bit(hours_, t.hour());
    if (hour < 0) {
      t = cctz::civil_minute(day + 1);
      continue;
    }
    if (hour != t.hour()) {
      t = cctz::civil_minute(t.year(), t.month(), t.day(), hour, 0);
      continue;
    }
    const int minute = next_bit(minutes_, t.minute());
    if (minute < 0) {
      t = cctz::civil_minute(cctz::civil_hour(t) + 1);
      continue;
    }
    return cctz::civil_minute(t.year(), t.month(), t.day(), t.hour(), minute);
  }
}

std::optional<std::chrono::system_clock::time_point> Expression::next_after(std::chrono::system_clock::time_point after,
                                                                            const cctz::time_zone& zone) const {
  const auto after_seconds = std::chrono::floor<std::chrono::seconds>(after);
  const cctz::civil_second now = cctz::convert(after_seconds, zone);
  const cctz::civil_day last_day(now.year() + 5, now.month(), now.day());

  // A minute at or before `now` on the wall clock fires at or before `after` (each wall-clock
  // time maps to an instant no later than the one it is read from, and the mapping keeps order),
  // so the search starts at the next minute. Only a time whose first occurrence is already past
  // (`after` is in the second pass of a repeated hour) can still be too early: skip those.
  cctz::civil_minute from = cctz::civil_minute(now) + 1;
  for (;;) {
    const std::optional<cctz::civil_minute> match = next_match(from, last_day);
    if (!match) return std::nullopt;
    const cctz::time_zone::civil_lookup lookup = zone.lookup(cctz::civil_second(*match));
    const auto when = lookup.kind == cctz::time_zone::civil_lookup::SKIPPED ? lookup.trans : lookup.pre;
    if (when > kLatest) return std::nullopt;  // past what a system_clock::time_point holds (year 2262)
    if (when > after) return std::chrono::time_point_cast<std::chrono::system_clock::duration>(when);
    from = *match + 1;
  }
}

}  // namespace tether::cron
