#include "agent/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace tether::agent {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // close() reports write-back errors that a silent destructor would lose.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

}  // namespace

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

void fsync_directory(const std::filesystem::path& directory) {
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) throw_errno("cannot open directory", directory);
  if (::fsync(dir.get()) != 0) throw_errno("cannot fsync directory", directory);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content, Durability durability) {
  auto temporary = path;
  temporary += ".tmp";
  FileDescriptor file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (file.get() < 0) throw_errno("cannot create", temporary);
  while (!content.empty()) {
    const auto written = ::write(file.get(), content.data(), content.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", temporary);
    }
    content.remove_prefix(static_cast<std::size_t>(written));
  }
  if (durability != Durability::unsynced && ::fsync(file.get()) != 0) throw_errno("cannot fsync", temporary);
  if (file.close() != 0) throw_errno("cannot close", temporary);
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno("cannot rename into place", path);
  if (durability == Durability::synced) fsync_directory(path.parent_path());
}

}  // namespace tether::agent
