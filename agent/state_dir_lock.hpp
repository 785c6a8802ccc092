#pragma once
// One agent per state dir: two agents sharing a journal could each start the same operation.
#include <filesystem>

namespace tether::agent {

class StateDirLock {
 public:
  // Creates the directory (mode 0700) if needed and takes an exclusive lock on DIR/agent.lock.
  // Throws std::runtime_error when another process holds it, std::system_error on I/O errors.
  explicit StateDirLock(const std::filesystem::path& state_dir);
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace tether::agent
