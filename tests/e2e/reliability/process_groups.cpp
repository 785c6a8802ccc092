#include "tests/e2e/reliability/process_groups.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/wait.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdio>

#include <string>
#include <system_error>

namespace tether::reliability {
namespace {

struct ProcessStat {
  char state = '?';
  pid_t pgrp = -1;
};

// /proc/<pid>/stat is "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses, so
// the fields are read after its last ')'.
std::optional<ProcessStat> read_stat(const std::filesystem::path& proc_entry) {
  const std::string text = testing::read_file(proc_entry / "stat");
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  ProcessStat stat;
  int ppid = 0;
  if (std::sscanf(text.c_str() + close + 1, " %c %d %d", &stat.state, &ppid, &stat.pgrp) != 3) return std::nullopt;
  return stat;
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::vector<pid_t> live_group_members(pid_t pgid) {
  std::vector<pid_t> members;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (!all_digits(name)) continue;
    const auto stat = read_stat(entry.path());  // a process that ended meanwhile reads as empty
    if (stat && stat->pgrp == pgid && stat->state != 'Z' && stat->state != 'X') members.push_back(std::stoi(name));
  }
  return members;
}

std::optional<pid_t> wait_for_pid_file(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
  std::optional<pid_t> pid;
  testing::wait_until(
      [&] {
        const std::string text = testing::read_file(path);
        if (text.empty() || text.back() != '\n') return false;
        pid = static_cast<pid_t>(std::stol(text));
        return true;
      },
      timeout);
  return pid;
}

std::vector<pid_t> live_processes_with_environment_entry(const std::string& entry) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& process : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = process.path().filename().string();
    if (!all_digits(name)) continue;
    const std::string environment = testing::read_file(process.path() / "environ");
    std::string::size_type start = 0;
    while (start < environment.size()) {
      const auto end = std::min(environment.find('\0', start), environment.size());
      if (environment.compare(start, end - start, entry) == 0) {
        found.push_back(std::stoi(name));
        break;
      }
      start = end + 1;
    }
  }
  return found;
}

MarkedCleanup::~MarkedCleanup() {
  for (const pid_t pid : live_processes_with_environment_entry(entry_)) ::kill(pid, SIGKILL);
}

GroupCleanup::~GroupCleanup() {
  for (const pid_t pgid : pgids_) {
    if (pgid > 1 && !live_group_members(pgid).empty()) ::kill(-pgid, SIGKILL);
  }
}

}  // namespace tether::reliability
