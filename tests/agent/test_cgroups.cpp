#include "test_cgroups.hpp"

#include "common/ids.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <filesystem>

namespace tether::agent::testing {
namespace {

struct Detected {
  std::shared_ptr<OperationCgroups> cgroups;
  std::string why_not;
};

const Detected& detected() {
  // The path only names the per-process directory; nothing is written there.
  static const Detected once = [] {
    Detected result;
    const auto state_dir = std::filesystem::temp_directory_path() / ("tether-agent-tests-" + std::to_string(::getpid()));
    result.cgroups = OperationCgroups::detect(state_dir, result.why_not);
    return result;
  }();
  return once;
}

}  // namespace

std::shared_ptr<OperationCgroups> test_cgroups() { return detected().cgroups; }
const std::string& cgroups_unavailable() { return detected().why_not; }

std::shared_ptr<OperationCgroup> new_operation_cgroup() {
  const auto cgroups = test_cgroups();
  if (!cgroups) return nullptr;
  std::string error;
  std::shared_ptr<OperationCgroup> cgroup = cgroups->create(ids::new_uuid(), error);
  if (!cgroup) throw std::runtime_error("cannot create a test cgroup: " + error);
  return cgroup;
}

pid_t start_in_cgroup(const OperationCgroup& cgroup, const std::string& shell_command) {
  // Until its exec the child is a copy of the test process: a signal then must not run the test
  // framework's handlers (which would report a failure from the copy).
  sigset_t all_signals;
  sigset_t previous;
  sigfillset(&all_signals);
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &previous);
  const pid_t pid = fork_into_cgroup(cgroup.directory_fd());
  if (pid == 0) {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &default_action, nullptr);
    ::sigprocmask(SIG_SETMASK, &previous, nullptr);
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", shell_command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const int error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) throw std::runtime_error(std::string("clone3 into a cgroup: ") + std::strerror(error));
  return pid;
}

}  // namespace tether::agent::testing
