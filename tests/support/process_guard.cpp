#include "tests/support/process_guard.hpp"

#include "common/crypto.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace tether::testing {
namespace {

// $1: the marker (NAME=value). Reads cleanup commands and "remove PATH" lines until end of input
// (the test process ended), runs the commands, kills marked processes until none is left (a few
// rounds, since a dying agent's command may still be forking), then removes the paths.
const char* const guardian_script = R"(
marker=$1
commands=
removals=
while IFS= read -r line; do
  case $line in
    "remove "*) removals="$removals
${line#remove }" ;;
    *) commands="$commands
$line" ;;
  esac
done
sh -c "$commands" >/dev/null 2>&1
round=0
while [ $round -lt 20 ]; do
  pids=
  for file in $(grep -lxzF "$marker" /proc/[0-9]*/environ 2>/dev/null); do
    pid=${file#/proc/}; pid=${pid%/environ}
    [ "$pid" != "$$" ] && pids="$pids $pid"
  done
  [ -z "$pids" ] && break
  kill -KILL $pids 2>/dev/null
  sleep 0.1
  round=$((round + 1))
done
printf '%s\n' "$removals" | while IFS= read -r path; do
  [ -n "$path" ] && rm -rf -- "$path"
done
)";

std::mutex mutex;
int guardian_pipe = -1;  // write end; closed by the kernel when this process ends

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) throw std::runtime_error(std::string("writing to the process guardian: ") + std::strerror(errno));
    done += static_cast<std::size_t>(wrote);
  }
}

void start_locked() {
  if (guardian_pipe >= 0) return;
  const std::string marker =
      std::string(guard_marker_variable) + "=" + std::to_string(::getpid()) + "-" + crypto::hex_encode(crypto::random_bytes(8));
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  std::vector<std::string> args{"/bin/sh", "-c", guardian_script, "tether-test-guardian", marker};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // The guardian must not carry the marker: it is started before the marker is set.
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    // Only async-signal-safe calls until exec. A session of its own, and a second fork so that
    // it is nobody's child here: killing the test's process tree does not reach it.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (::dup2(ends[0], 0) < 0 || null_fd < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(null_fd, 2) < 0) ::_exit(127);
    ::close_range(3, ~0U, 0);
    ::execv("/bin/sh", argv.data());
    ::_exit(127);
  }
  ::close(ends[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  guardian_pipe = ends[1];
  const auto equals = marker.find('=');
  ::setenv(marker.substr(0, equals).c_str(), marker.substr(equals + 1).c_str(), 1);
}

}  // namespace

void start_process_guard() {
  std::lock_guard lock(mutex);
  start_locked();
}

void remove_on_test_process_death(const std::filesystem::path& path) {
  std::lock_guard lock(mutex);
  start_locked();
  write_all(guardian_pipe, "remove " + path.string() + "\n");
}

void on_test_process_death(const std::string& shell_command) {
  std::lock_guard lock(mutex);
  start_locked();
  write_all(guardian_pipe, shell_command + "\n");
}

}  // namespace tether::testing
