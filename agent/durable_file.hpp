#pragma once
// Small-file writes that survive a crash: write a temporary file, rename it over the target.
// Errors throw std::system_error naming the path.
#include <filesystem>
#include <string>
#include <string_view>

namespace tether::agent {

enum class Durability {
  // fsync the file before the rename and the directory after it: the new content survives power loss.
  synced,
  // fsync the file before the rename only: after power loss the file holds either the old or the
  // new content (the rename itself may be lost), never a torn mix.
  file_synced,
  // no fsync: survives a crash of the agent process (the page cache is kept), not power loss.
  unsynced,
};

void write_file_atomically(const std::filesystem::path& path, std::string_view content, Durability durability);
void fsync_directory(const std::filesystem::path& directory);

// Throws std::system_error for the current errno: "`what` `path`".
[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path);

}  // namespace tether::agent
