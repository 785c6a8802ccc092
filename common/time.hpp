#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace tether::timeutil {

// RFC 3339 / ISO 8601 in UTC with a `Z` suffix, e.g. 2026-04-10T14:30:00Z (seed 003 form).
std::string format_utc(std::chrono::system_clock::time_point when);
std::string now_utc();
std::int64_t unix_millis(std::chrono::system_clock::time_point when);

}  // namespace tether::timeutil
