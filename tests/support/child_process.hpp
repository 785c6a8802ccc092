#pragma once
// Real child processes for tests: the controller, agents, openssl, pg_dump.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::testing {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no slash
  // Added to the inherited environment, replacing variables of the same name.
  std::map<std::string, std::string> env;
  // Inherited variables whose names start with one of these are dropped, so that a developer's
  // shell (e.g. a sourced dev.env with TETHER_*) cannot change what a test starts.
  std::vector<std::string> drop_env_prefixes;
  // stdout is appended to this file (so a restarted process keeps one log); stderr goes to
  // `stderr_path`, or to the same file when that is empty.
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  // RLIMIT_NOFILE (soft and hard) for the process, e.g. to make it run out of file descriptors.
  std::optional<long> max_open_files;
};

struct ExitStatus {
  std::optional<int> code;    // set when the process exited
  std::optional<int> signal;  // set when a signal ended it
  std::string describe() const;
};

class ChildProcess {
 public:
  // Starts the process; throws std::runtime_error (with errno text) when it cannot be executed.
  // The child gets SIGKILL if the thread that started it ends (PR_SET_PDEATHSIG), so a crashed
  // test leaves no controller or agent behind: start long-lived processes from the main thread.
  // What the child starts in turn (an agent's commands, in process groups of their own) is ended
  // by the process guard (process_guard.hpp) when the test process dies.
  explicit ChildProcess(ProcessSpec spec);
  // SIGKILL and reap when still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void kill(int signal);
  // The exit status once the process has ended within `timeout`, else nullopt.
  std::optional<ExitStatus> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGKILL, then reap.
  ExitStatus kill_and_reap();

  // Everything the process wrote so far (stdout file, then the stderr file when separate).
  std::string log() const;
  std::string stdout_text() const;
  std::string stderr_text() const;
  const ProcessSpec& spec() const { return spec_; }

 private:
  bool reap(int wait_flags);

  ProcessSpec spec_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> exit_;
};

struct CommandResult {
  ExitStatus status;
  std::string out;
  std::string err;
  bool succeeded() const { return status.code == 0; }
};

// Runs a command to its end (SIGKILL after `timeout`, reported as a failure) and captures its
// stdout and stderr separately.
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& env = {},
                          const std::vector<std::string>& drop_env_prefixes = {});

std::string read_file(const std::filesystem::path& path);

}  // namespace tether::testing
