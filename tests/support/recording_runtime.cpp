#include "tests/support/recording_runtime.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/script_file.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace tether::testing {

RecordingRuntime::RecordingRuntime(const std::filesystem::path& dir)
    : script_(dir / "container-runtime"),
      arguments_file_(dir / "container-runtime.argv"),
      stdin_file_(dir / "container-runtime.stdin"),
      hold_file_(dir / "login.hold"),
      waiting_file_(dir / "login.waiting"),
      release_file_(dir / "login.release") {
  clear();
  // Only `login` reads stdin: for the other calls the agent need not give the process any input.
  write_executable(script_, fmt::format(R"(#!/bin/sh
for argument in "$@"; do printf '%s\n' "$argument" >> {argv}; done
case "$1" in
  restart) printf '%s\n' "$2" ;;
  login)
    cat >> {stdin}
    if [ -e {hold} ]; then
      : > {waiting}
      i=0; while [ ! -e {release} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
    fi
    echo 'Login Succeeded' ;;
  logout) printf 'not logged in to %s\n' "$2" >&2; exit {logout_exit} ;;
  *) printf 'unsupported call: %s\n' "$1" >&2; exit 125 ;;
esac
)",
                                        fmt::arg("argv", shell_quote(arguments_file_.string())),
                                        fmt::arg("stdin", shell_quote(stdin_file_.string())),
                                        fmt::arg("hold", shell_quote(hold_file_.string())),
                                        fmt::arg("waiting", shell_quote(waiting_file_.string())),
                                        fmt::arg("release", shell_quote(release_file_.string())),
                                        fmt::arg("logout_exit", logout_exit_code)));
}

std::vector<std::string> RecordingRuntime::arguments() const {
  std::vector<std::string> out;
  std::istringstream lines(read_file(arguments_file_));
  for (std::string line; std::getline(lines, line);) out.push_back(line);
  return out;
}

std::string RecordingRuntime::login_stdin() const { return read_file(stdin_file_); }

void RecordingRuntime::hold_logins() const {
  std::filesystem::remove(release_file_);
  std::filesystem::remove(waiting_file_);
  std::ofstream(hold_file_, std::ios::trunc).close();
}

bool RecordingRuntime::login_waiting() const { return std::filesystem::exists(waiting_file_); }

void RecordingRuntime::release_login() const {
  std::filesystem::remove(hold_file_);
  std::ofstream(release_file_, std::ios::trunc).close();
}

void RecordingRuntime::clear() const {
  std::ofstream(arguments_file_, std::ios::trunc).close();
  std::ofstream(stdin_file_, std::ios::trunc).close();
}

}  // namespace tether::testing
