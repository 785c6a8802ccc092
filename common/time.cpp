#include "common/time.hpp"

#include <cctype>
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

std::string format_utc_micros(std::int64_t epoch_us) {
  // Floor division, so that times before 1970 keep a fraction in 0..999999.
  std::int64_t seconds = epoch_us / 1'000'000;
  std::int64_t micros = epoch_us % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    seconds -= 1;
  }
  const std::time_t whole = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&whole, &parts);
  char text[48];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  char out[64];
  const int written = std::snprintf(out, sizeof out, "%.*s.%06lldZ", static_cast<int>(length), text,
                                    static_cast<long long>(micros));
  return std::string(out, static_cast<std::size_t>(written));
}

std::string now_utc() { return format_utc(std::chrono::system_clock::now()); }

std::int64_t unix_millis(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

}  // namespace tether::timeutil

namespace tether::timeutil {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, then an optional fraction, then Z or +HH:MM / -HH:MM.
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < shape.size() + 1) return std::nullopt;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (shape[i] == 'd' ? !digit : (text[i] != shape[i] && !(shape[i] == 'T' && text[i] == 't'))) return std::nullopt;
  }
  const auto number = [&](std::size_t at, std::size_t length) {
    int value = 0;
    for (std::size_t i = at; i < at + length; ++i) value = value * 10 + (text[i] - '0');
    return value;
  };
  std::tm parts{};
  parts.tm_year = number(0, 4) - 1900;
  parts.tm_mon = number(5, 2) - 1;
  parts.tm_mday = number(8, 2);
  parts.tm_hour = number(11, 2);
  parts.tm_min = number(14, 2);
  parts.tm_sec = number(17, 2);
  std::size_t rest = shape.size();
  std::chrono::nanoseconds fraction{0};
  if (text[rest] == '.') {
    ++rest;
    long long scale = 100000000, value = 0;
    const std::size_t start = rest;
    while (rest < text.size() && text[rest] >= '0' && text[rest] <= '9') {
      if (scale > 0) value += (text[rest] - '0') * scale, scale /= 10;
      ++rest;
    }
    if (rest == start) return std::nullopt;
    fraction = std::chrono::nanoseconds(value);
  }
  if (rest >= text.size()) return std::nullopt;
  long offset_seconds = 0;
  if (text[rest] == 'Z' || text[rest] == 'z') {
    ++rest;
  } else if (text[rest] == '+' || text[rest] == '-') {
    const auto zone = text.substr(rest + 1);
    if (zone.size() != 5 || zone[2] != ':' || !std::isdigit(static_cast<unsigned char>(zone[0])) ||
        !std::isdigit(static_cast<unsigned char>(zone[1])) || !std::isdigit(static_cast<unsigned char>(zone[3])) ||
        !std::isdigit(static_cast<unsigned char>(zone[4]))) {
      return std::nullopt;
    }
    const int hours = number(rest + 1, 2), minutes = number(rest + 4, 2);
    if (hours > 23 || minutes > 59) return std::nullopt;
    offset_seconds = (text[rest] == '-' ? -1 : 1) * (hours * 3600L + minutes * 60L);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (rest != text.size()) return std::nullopt;
  std::tm normalised = parts;
  const std::time_t local = timegm(&normalised);
  // timegm normalises out-of-range fields (Feb 30 -> Mar 2); such a date is not valid input.
  if (normalised.tm_mday != parts.tm_mday || normalised.tm_mon != parts.tm_mon || normalised.tm_hour != parts.tm_hour ||
      normalised.tm_min != parts.tm_min || normalised.tm_sec != parts.tm_sec) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(local - offset_seconds) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

}  // namespace tether::timeutil
