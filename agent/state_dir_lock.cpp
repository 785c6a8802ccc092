#include "agent/state_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace tether::agent {
namespace fs = std::filesystem;

StateDirLock::StateDirLock(const fs::path& state_dir) {
  if (!fs::exists(state_dir)) {
    fs::create_directories(state_dir);
    fs::permissions(state_dir, fs::perms::owner_all, fs::perm_options::replace);
  }
  const auto path = state_dir / "agent.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path.string());
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) throw std::runtime_error("another tether-agent is already using state dir " + state_dir.string());
    throw std::system_error(error, std::generic_category(), "cannot lock " + path.string());
  }
}

StateDirLock::~StateDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace tether::agent
