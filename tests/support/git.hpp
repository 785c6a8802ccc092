#pragma once
// Runs the real git for tests that need a repository (deploys check out branches, tags and SHAs).
#include <filesystem>
#include <string>
#include <vector>

namespace tether::testing {

// `git -C dir args...` with a fixed identity and without the machine's or user's git
// configuration; returns stdout without its trailing newline, throws (with stderr) on failure.
std::string git(const std::filesystem::path& dir, const std::vector<std::string>& args);

}  // namespace tether::testing
