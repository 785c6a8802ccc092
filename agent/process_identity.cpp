#include "agent/process_identity.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace tether::agent {

std::optional<std::uint64_t> parse_stat_start_ticks(std::string_view stat_line) {
  // "pid (comm) state ppid ..." - comm is free text, so count fields after the last ')'.
  const auto close = stat_line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  auto rest = stat_line.substr(close + 1);
  constexpr int start_time_field = 22;
  int field = 2;  // fields 1 and 2 (pid and comm) are behind us
  while (!rest.empty()) {
    const auto begin = rest.find_first_not_of(' ');
    if (begin == std::string_view::npos) break;
    rest.remove_prefix(begin);
    const auto end = rest.find(' ');
    const auto token = rest.substr(0, end);
    if (++field == start_time_field) {
      std::uint64_t value = 0;
      const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
      if (ec != std::errc{} || ptr != token.data() + token.size()) return std::nullopt;
      return value;
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> process_start_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  const std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_stat_start_ticks(line);
}

bool is_same_process(const ProcessIdentity& identity) {
  if (identity.pid <= 0) return false;
  const auto ticks = process_start_ticks(identity.pid);
  return ticks && *ticks == identity.start_ticks;
}

std::vector<pid_t> processes_with_environment_entry(std::string_view entry) {
  std::vector<pid_t> matches;
  std::error_code error;
  for (const auto& process : std::filesystem::directory_iterator("/proc", error)) {
    const auto name = process.path().filename().string();
    pid_t pid = 0;
    const auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc{} || ptr != name.data() + name.size()) continue;
    std::ifstream in(process.path() / "environ", std::ios::binary);
    if (!in) continue;
    const std::string environment((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string_view rest(environment);
    while (!rest.empty()) {
      const auto end = rest.find('\0');
      if (rest.substr(0, end) == entry) {
        matches.push_back(pid);
        break;
      }
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  return matches;
}

}  // namespace tether::agent
