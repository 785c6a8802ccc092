#include "orphan_reaping.hpp"

#include "tests/support/wait.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <fstream>
#include <stdexcept>
#include <string>

namespace tether::agent::testing {

void become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("prctl(PR_SET_CHILD_SUBREAPER) failed");
}

std::optional<int> reap(pid_t pid, std::chrono::milliseconds timeout) {
  std::optional<int> result;
  tether::testing::wait_until(
      [&] {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) result = status;
        return result.has_value();
      },
      timeout, std::chrono::milliseconds(10));
  return result;
}

pid_t read_pid_file(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
  pid_t pid = -1;
  tether::testing::wait_until(
      [&] {
        std::ifstream in(file);
        std::string line;
        if (in && std::getline(in, line) && !in.eof() && !line.empty()) pid = static_cast<pid_t>(std::stol(line));
        return pid > 0;
      },
      timeout, std::chrono::milliseconds(10));
  if (pid <= 0) throw std::runtime_error("no pid in " + file.string());
  return pid;
}

}  // namespace tether::agent::testing
