#pragma once
// Reading a Prometheus text exposition in tests: the value of one series, written as it appears
// before its value (`name` or `name{label="v",...}`: prometheus-cpp writes the labels sorted by
// name, then a histogram bucket's `le`).
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace tether::testing {

inline std::optional<double> prometheus_value(const std::string& exposition, std::string_view series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos || std::string_view(line).substr(0, space) != series) continue;
    return std::stod(line.substr(space + 1));
  }
  return std::nullopt;
}

// Absent series count as 0 (a labelled counter appears at its first increment).
inline double prometheus_value_or_zero(const std::string& exposition, std::string_view series) {
  return prometheus_value(exposition, series).value_or(0.0);
}

}  // namespace tether::testing
