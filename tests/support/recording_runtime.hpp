#pragma once
// A stand-in for docker/podman for the agent's --container-runtime: a shell script that records
// the arguments of every call and, for `login`, what it read on stdin, so that tests can prove
// the exact command line the agent ran and where a registry password went.
#include <filesystem>
#include <string>
#include <vector>

namespace tether::testing {

class RecordingRuntime {
 public:
  // Writes the script and its (empty) record files into `dir`.
  explicit RecordingRuntime(const std::filesystem::path& dir);

  // The script, for --container-runtime.
  const std::filesystem::path& path() const { return script_; }

  // Every argument of every call since the last clear(), one element per argument, in order.
  std::vector<std::string> arguments() const;
  // Everything `login` calls read on stdin since the last clear().
  std::string login_stdin() const;
  const std::filesystem::path& arguments_file() const { return arguments_file_; }
  const std::filesystem::path& stdin_file() const { return stdin_file_; }
  // Empties both records.
  void clear() const;

  // Holding logins: after reading its stdin, a `login` call waits (at most 30 s) until
  // release_login(), so that tests can look at the agent while the operation is live.
  void hold_logins() const;
  // True once a held `login` has read its stdin and waits.
  bool login_waiting() const;
  // Lets held logins go on, and stops holding later ones.
  void release_login() const;

  // What the script does per subcommand (the shape of the real runtime's answers):
  //   restart NAME -> prints NAME, exit 0
  //   login URL -u USER --password-stdin -> reads stdin, waits while held, prints "Login Succeeded", exit 0
  //   logout URL -> prints "not logged in to URL" on stderr, exit 1 (tests the failing logout)
  //   anything else -> exit 125
  static constexpr int logout_exit_code = 1;

 private:
  std::filesystem::path script_;
  std::filesystem::path arguments_file_;
  std::filesystem::path stdin_file_;
  std::filesystem::path hold_file_, waiting_file_, release_file_;
};

}  // namespace tether::testing
