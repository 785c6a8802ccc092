#pragma once
// Recognising a process again later (after an agent restart): a pid alone may have been reused,
// a pid plus its start time (clock ticks since boot, /proc/<pid>/stat field 22) in the same boot may not.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tether::agent {

struct ProcessIdentity {
  pid_t pid = 0;
  pid_t pgid = 0;
  std::uint64_t start_ticks = 0;
};

// Field 22 of /proc/<pid>/stat; nullopt when the process does not exist.
std::optional<std::uint64_t> process_start_ticks(pid_t pid);
// Field 22 of a /proc/<pid>/stat line (the command name may contain spaces and parentheses).
std::optional<std::uint64_t> parse_stat_start_ticks(std::string_view stat_line);

// The recorded process still exists (a zombie counts: it is ours until reaped).
bool is_same_process(const ProcessIdentity& identity);

// Every process whose environment holds exactly `entry` ("KEY=VALUE"), from /proc/<pid>/environ.
// Processes whose environment cannot be read (other users, already gone) are skipped.
std::vector<pid_t> processes_with_environment_entry(std::string_view entry);

}  // namespace tether::agent
