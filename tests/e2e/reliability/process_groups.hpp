#pragma once
// Looking for the processes a command left behind: the tests record the shell's pid (`echo $$`),
// which the agent made the leader of the command's own process group, or give the command an
// environment variable with a unique value (which survives setsid and double forks).
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tether::reliability {

// Pids of the processes in process group `pgid` that have not ended. Zombies count as ended: in
// a container nobody may reap an orphan whose parent (the killed agent) is gone.
std::vector<pid_t> live_group_members(pid_t pgid);

// Pids of the processes that have not ended whose environment holds exactly `entry`
// ("KEY=VALUE"). Zombies count as ended (their environment is gone with their memory).
std::vector<pid_t> live_processes_with_environment_entry(const std::string& entry);

// SIGKILLs every process whose environment holds `entry` when the test ends, so that a failing
// test leaves no `sleep` running on the machine.
class MarkedCleanup {
 public:
  explicit MarkedCleanup(std::string entry) : entry_(std::move(entry)) {}
  ~MarkedCleanup();
  MarkedCleanup(const MarkedCleanup&) = delete;
  MarkedCleanup& operator=(const MarkedCleanup&) = delete;

 private:
  std::string entry_;
};

// The pid written to `path` (a decimal number and a newline) once it is there; nullopt when the
// file is still missing or incomplete after `timeout`.
std::optional<pid_t> wait_for_pid_file(const std::filesystem::path& path, std::chrono::milliseconds timeout);

// SIGKILLs what is left of a process group when the test ends, so that a failing test leaves no
// `sleep` running on the machine. Does nothing when the group is already gone.
class GroupCleanup {
 public:
  GroupCleanup() = default;
  ~GroupCleanup();
  GroupCleanup(const GroupCleanup&) = delete;
  GroupCleanup& operator=(const GroupCleanup&) = delete;
  void watch(pid_t pgid) { pgids_.push_back(pgid); }

 private:
  std::vector<pid_t> pgids_;
};

}  // namespace tether::reliability
