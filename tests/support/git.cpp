#include "tests/support/git.hpp"

#include "tests/support/child_process.hpp"

#include <fmt/format.h>

#include <fstream>

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

std::string commit_label(const std::filesystem::path& repo, const std::string& label) {
  std::ofstream(repo / "app.txt", std::ios::trunc) << label << "\n";
  git(repo, {"add", "app.txt"});
  git(repo, {"commit", "-q", "-m", label});
  return git(repo, {"rev-parse", "HEAD"});
}

AuthoredOrigin::AuthoredOrigin(const std::filesystem::path& dir)
    : origin(dir / "origin.git"), authoring(dir / "authoring"), checkout(dir / "checkout") {
  std::filesystem::create_directories(dir);
  git(dir, {"init", "-q", "--bare", "-b", "main", origin.string()});
  git(dir, {"init", "-q", "-b", "main", authoring.string()});
  git(authoring, {"remote", "add", "origin", origin.string()});
}

}  // namespace tether::testing
