#pragma once
// Runs the real git for tests that need a repository (deploys check out branches, tags and SHAs).
#include <filesystem>
#include <string>
#include <vector>

namespace tether::testing {

// `git -C dir args...` with a fixed identity and without the machine's or user's git
// configuration; returns stdout without its trailing newline, throws (with stderr) on failure.
std::string git(const std::filesystem::path& dir, const std::vector<std::string>& args);

// Writes `label` into app.txt of `repo` and commits it; returns the new commit's SHA.
std::string commit_label(const std::filesystem::path& repo, const std::string& label);

// Under `dir`: a bare "origin.git" and an "authoring" repository (branch main) whose remote is
// origin; `checkout` is where a test clones the application (not created here).
struct AuthoredOrigin {
  std::filesystem::path origin, authoring, checkout;
  explicit AuthoredOrigin(const std::filesystem::path& dir);
};

}  // namespace tether::testing
