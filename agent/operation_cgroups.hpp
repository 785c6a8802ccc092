#pragma once
// A cgroup (v2) per operation, where the agent may create one: every process an operation starts
// stays in it whatever it does to its session or process group (`setsid`, double forks), so the
// end of the operation can reach all of them (cgroup.kill). Invariant: an operation's processes are
// born in its cgroup (clone3 with CLONE_INTO_CGROUP, see ProcessRunner), never moved there later,
// so none can fork away before it is in.
//
// Layout: <the agent's own cgroup>/tether-<hash of the state dir>/op-<operation id>. The middle
// level keeps agents that share a cgroup (several on one machine, or in tests) apart, and stays
// the same across restarts of one agent, so a restarted agent finds the cgroups its predecessor
// left. Nothing else lives there, and no controller is ever enabled (so the "no internal processes"
// rule of cgroup v2 never applies).
//
// Where this is not possible (no cgroup v2, no write access to the agent's cgroup, a kernel older
// than 5.14 without cgroup.kill, clone3 refused by a seccomp filter), the agent falls back to
// process groups only, and says so at start.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent {

// One operation's cgroup. Owns an open descriptor on its directory (what CLONE_INTO_CGROUP takes).
class OperationCgroup {
 public:
  OperationCgroup(std::filesystem::path path, int directory_fd);
  ~OperationCgroup();
  OperationCgroup(const OperationCgroup&) = delete;
  OperationCgroup& operator=(const OperationCgroup&) = delete;

  int directory_fd() const { return directory_fd_; }
  const std::filesystem::path& path() const { return path_; }

  // Some process (not a zombie) is still in the cgroup.
  bool populated() const;
  // `signal` to every process in the cgroup; SIGKILL goes through cgroup.kill, which also reaches
  // processes forked while it runs.
  void signal_all(int signal) const;
  // Removes the directory; false while processes remain (the caller retries). A cgroup already
  // gone counts as removed.
  bool remove();

 private:
  std::filesystem::path path_;
  int directory_fd_ = -1;
  bool removed_ = false;
};

// fork() whose child is born in the cgroup open as `cgroup_fd` (clone3 with CLONE_INTO_CGROUP):
// the child's pid in the parent, 0 in the child, -1 with errno set on failure. Like after fork()
// in a process with threads, the child may only make async-signal-safe calls until it execs.
pid_t fork_into_cgroup(int cgroup_fd);

class OperationCgroups {
 public:
  // Finds the agent's own cgroup v2 directory and checks that an operation cgroup can be made
  // there (creates the per-agent directory, and a child process is born into a probe cgroup).
  // Returns nullptr with `why_not` set when cgroups cannot be used.
  static std::shared_ptr<OperationCgroups> detect(const std::filesystem::path& state_dir, std::string& why_not);

  // Operation cgroups under `base` (made with the first of them), without detect()'s checks.
  explicit OperationCgroups(std::filesystem::path base) : base_(std::move(base)) {}
  ~OperationCgroups();
  OperationCgroups(const OperationCgroups&) = delete;
  OperationCgroups& operator=(const OperationCgroups&) = delete;

  const std::filesystem::path& base() const { return base_; }

  // A new cgroup for the operation; nullptr with `error` set when it cannot be made. A cgroup of
  // the same id left over from an earlier agent process is emptied and replaced.
  std::unique_ptr<OperationCgroup> create(std::string_view operation_id, std::string& error) const;

  // What is left of an operation's cgroup, if anything: its processes are SIGKILLed and the directory
  // is removed (once they are gone: waits for them at most `wait`).
  void kill_and_remove(std::string_view operation_id, std::chrono::milliseconds wait = std::chrono::milliseconds(500)) const;
  // Some process still lives in the operation's cgroup.
  bool populated(std::string_view operation_id) const;
  // Operation ids that have a cgroup here.
  std::vector<std::string> operation_ids() const;

 private:
  std::filesystem::path path_of(std::string_view operation_id) const;

  std::filesystem::path base_;
};

}  // namespace tether::agent
