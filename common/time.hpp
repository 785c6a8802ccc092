#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::timeutil {

// RFC 3339 / ISO 8601 in UTC with a `Z` suffix, e.g. 2026-04-10T14:30:00Z (seed 003 form).
std::string format_utc(std::chrono::system_clock::time_point when);
std::string now_utc();
std::int64_t unix_millis(std::chrono::system_clock::time_point when);
// Epoch microseconds as RFC 3339 UTC with six fraction digits, e.g. 2026-12-01T18:00:00.123456Z.
std::string format_utc_micros(std::int64_t epoch_us);

}  // namespace tether::timeutil

namespace tether::timeutil {
// Parses RFC 3339 date-times such as 2026-04-10T14:30:00Z, 2026-04-10T14:30:00.5+02:00.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);
}  // namespace tether::timeutil
