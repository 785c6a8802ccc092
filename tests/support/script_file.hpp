#pragma once
#include <filesystem>
#include <string>

namespace tether::testing {

// Writes `text` to `path` (replacing it) and makes it executable by its owner; returns `path`.
// For the small shell scripts that stand in for a container runtime or a reboot command.
std::filesystem::path write_executable(const std::filesystem::path& path, const std::string& text);

// `text` in single quotes for /bin/sh, with embedded single quotes escaped.
std::string shell_quote(const std::string& text);

}  // namespace tether::testing
