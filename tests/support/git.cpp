#include "tests/support/git.hpp"

#include "tests/support/child_process.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace tether::testing {

std::string git(const std::filesystem::path& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"git", "-C", dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::map<std::string, std::string> env{{"GIT_CONFIG_NOSYSTEM", "1"},
                                               {"GIT_CONFIG_GLOBAL", "/dev/null"},
                                               {"GIT_AUTHOR_NAME", "Tether Tests"},
                                               {"GIT_AUTHOR_EMAIL", "tests@tether.invalid"},
                                               {"GIT_COMMITTER_NAME", "Tether Tests"},
                                               {"GIT_COMMITTER_EMAIL", "tests@tether.invalid"}};
  auto result = run_command(argv, std::chrono::seconds(30), env, {"GIT_"});
  if (!result.succeeded()) {
    std::string command;
    for (const auto& arg : argv) command += arg + " ";
    throw std::runtime_error(fmt::format("{}failed ({}): {}", command, result.status.describe(), result.err));
  }
  std::string out = std::move(result.out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace tether::testing
