#pragma once
// Commands under test start background processes that outlive their shell. Once orphaned they are
// re-parented to this test process (a child subreaper), so a test can reap them and see how they
// died, whatever PID 1 of the machine does with zombies.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>

namespace tether::agent::testing {

void become_subreaper();

// The wait status of `pid` once it has ended (bounded by `timeout`), else nullopt.
std::optional<int> reap(pid_t pid, std::chrono::milliseconds timeout);

// A pid written by a command (`echo $! > FILE`), read once the file holds a full line.
pid_t read_pid_file(const std::filesystem::path& file, std::chrono::milliseconds timeout);

}  // namespace tether::agent::testing
