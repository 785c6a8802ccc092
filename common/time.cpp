#include "common/time.hpp"

#include <cstdio>
#include <ctime>

namespace tether::timeutil {

std::string format_utc(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text, length);
}

std::string now_utc() { return format_utc(std::chrono::system_clock::now()); }

std::int64_t unix_millis(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

}  // namespace tether::timeutil

namespace tether::timeutil {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  std::string copy(text);
  std::tm parts{};
  const char* rest = strptime(copy.c_str(), "%Y-%m-%dT%H:%M:%S", &parts);
  if (!rest) return std::nullopt;
  std::chrono::nanoseconds fraction{0};
  if (*rest == '.') {
    ++rest;
    long long scale = 100000000, value = 0;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 9) value += (*rest - '0') * scale, scale /= 10;
      ++digits;
      ++rest;
    }
    if (digits == 0) return std::nullopt;
    fraction = std::chrono::nanoseconds(value);
  }
  long offset_seconds = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    const int sign = *rest == '-' ? -1 : 1;
    int hours = 0, minutes = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2 || hours > 23 || minutes > 59) return std::nullopt;
    offset_seconds = sign * (hours * 3600L + minutes * 60L);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  const std::time_t utc = timegm(&parts) - offset_seconds;
  return std::chrono::system_clock::from_time_t(utc) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

}  // namespace tether::timeutil
