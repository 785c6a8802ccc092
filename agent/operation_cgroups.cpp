#include "agent/operation_cgroups.hpp"

#include "common/crypto.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace tether::agent {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view operation_prefix = "op-";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Writes `text` to a cgroup control file in one write(2), as the kernel expects.
bool write_control(const fs::path& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto written = ::write(fd, text.data(), text.size());
  ::close(fd);
  return written == static_cast<ssize_t>(text.size());
}

// The operation id is a UUID (the protocol checks it); anything else never becomes a path.
bool is_plain_name(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
    if (!ok) return false;
  }
  return true;
}

// /proc/self/mountinfo escapes spaces and a few other bytes as \ooo.
std::string unescape_mount_path(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      int value = 0;
      const auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 4, value, 8);
      if (error == std::errc{} && end == text.data() + i + 4) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// The directory of the agent's own cgroup in the cgroup v2 hierarchy, or nullopt with the reason.
std::optional<fs::path> own_cgroup_directory(std::string& why_not) {
  std::optional<std::string> own;
  std::istringstream cgroup_lines(read_text("/proc/self/cgroup"));
  for (std::string line; std::getline(cgroup_lines, line);) {
    if (line.rfind("0::", 0) == 0) own = line.substr(3);
  }
  if (!own || own->empty() || own->front() != '/') {
    why_not = "no cgroup v2 hierarchy (no 0:: line in /proc/self/cgroup)";
    return std::nullopt;
  }
  // "id parent major:minor root mount-point options [optional fields] - type source super-options"
  std::istringstream mount_lines(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(mount_lines, line);) {
    const auto separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::istringstream after(line.substr(separator + 3));
    std::string type;
    after >> type;
    if (type != "cgroup2") continue;
    std::istringstream before(line.substr(0, separator));
    std::string id, parent, device, root, mount_point;
    before >> id >> parent >> device >> root >> mount_point;
    root = unescape_mount_path(root);
    mount_point = unescape_mount_path(mount_point);
    // The mount shows the hierarchy from `root` down; the agent's cgroup must lie below it.
    std::string relative = *own;
    if (root != "/") {
      if (relative != root && relative.rfind(root + "/", 0) != 0) continue;
      relative = relative.substr(root.size());
    }
    if (relative.find("/..") != std::string::npos) continue;
    return fs::path(mount_point) / fs::path(relative).relative_path();
  }
  why_not = fmt::format("the agent's cgroup {} is not visible: no cgroup2 file system mounted that shows it", *own);
  return std::nullopt;
}

// cgroup.events holds "populated 0" once no process (zombies aside) is left in the cgroup or below.
bool events_say_populated(const fs::path& cgroup) {
  std::istringstream lines(read_text(cgroup / "cgroup.events"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("populated ", 0) == 0) return line != "populated 0";
  }
  return false;  // the cgroup is gone
}

}  // namespace

pid_t fork_into_cgroup(int cgroup_fd) {
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

OperationCgroup::OperationCgroup(fs::path path, int directory_fd) : path_(std::move(path)), directory_fd_(directory_fd) {}

OperationCgroup::~OperationCgroup() {
  if (directory_fd_ >= 0) ::close(directory_fd_);
}

bool OperationCgroup::populated() const { return !removed_ && events_say_populated(path_); }

void OperationCgroup::signal_all(int signal) const {
  if (removed_) return;
  if (signal == SIGKILL) {
    write_control(path_ / "cgroup.kill", "1");
    return;
  }
  std::istringstream lines(read_text(path_ / "cgroup.procs"));
  for (std::string line; std::getline(lines, line);) {
    pid_t pid = 0;
    const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (error == std::errc{} && pid > 0) ::kill(pid, signal);
  }
}

bool OperationCgroup::remove() {
  if (removed_) return true;
  if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) removed_ = true;
  return removed_;
}

std::shared_ptr<OperationCgroups> OperationCgroups::detect(const fs::path& state_dir, std::string& why_not) {
  const auto own = own_cgroup_directory(why_not);
  if (!own) return nullptr;
  std::error_code ignored;
  const auto state = fs::weakly_canonical(fs::absolute(state_dir, ignored), ignored);
  const auto base = *own / ("tether-" + crypto::sha256_hex(state.string()).substr(0, 16));
  if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
    why_not = fmt::format("cannot create the cgroup {}: {}", base.string(), std::strerror(errno));
    return nullptr;
  }
  if (::access((base / "cgroup.kill").c_str(), W_OK) != 0) {
    why_not = fmt::format("{} has no writable cgroup.kill (Linux 5.14 or later is needed)", base.string());
    ::rmdir(base.c_str());
    return nullptr;
  }

  // A child is born into a probe cgroup and exits: what every operation's spawn will do.
  auto cgroups = std::make_shared<OperationCgroups>(base);
  std::string error;
  auto probe = cgroups->create("probe", error);
  if (!probe) {
    why_not = error;
    return nullptr;
  }
  const pid_t pid = fork_into_cgroup(probe->directory_fd());
  if (pid == 0) ::_exit(0);
  if (pid < 0) {
    why_not = fmt::format("cannot start a process in the cgroup {} (clone3): {}", probe->path().string(),
                          std::strerror(errno));
    probe->remove();
    return nullptr;
  }
  ::waitpid(pid, nullptr, 0);
  probe->remove();
  return cgroups;
}

// The per-agent directory goes with the agent when it is empty (it is not, while an operation's
// processes outlive the agent: the next agent process finds them there).
OperationCgroups::~OperationCgroups() { ::rmdir(base_.c_str()); }

fs::path OperationCgroups::path_of(std::string_view operation_id) const {
  return base_ / (std::string(operation_prefix) + std::string(operation_id));
}

std::unique_ptr<OperationCgroup> OperationCgroups::create(std::string_view operation_id, std::string& error) const {
  if (!is_plain_name(operation_id)) {
    error = "the operation id cannot name a cgroup";
    return nullptr;
  }
  const auto path = path_of(operation_id);
  // Made again when missing, so that an agent whose directory was removed under it recovers.
  if (::mkdir(base_.c_str(), 0755) != 0 && errno != EEXIST) {
    error = fmt::format("cannot create the cgroup {}: {}", base_.string(), std::strerror(errno));
    return nullptr;
  }
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno != EEXIST) {
      error = fmt::format("cannot create the cgroup {}: {}", path.string(), std::strerror(errno));
      return nullptr;
    }
    kill_and_remove(operation_id);
    if (::mkdir(path.c_str(), 0755) != 0) {
      error = fmt::format("cannot create the cgroup {}: {}", path.string(), std::strerror(errno));
      return nullptr;
    }
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("cannot open the cgroup {}: {}", path.string(), std::strerror(errno));
    ::rmdir(path.c_str());
    return nullptr;
  }
  return std::make_unique<OperationCgroup>(path, fd);
}

void OperationCgroups::kill_and_remove(std::string_view operation_id, std::chrono::milliseconds wait) const {
  if (!is_plain_name(operation_id)) return;
  const auto path = path_of(operation_id);
  if (!fs::exists(path)) return;
  write_control(path / "cgroup.kill", "1");
  const auto give_up = std::chrono::steady_clock::now() + wait;
  // SIGKILLed processes are gone within moments, unless stuck in the kernel (a hung NFS mount).
  while (::rmdir(path.c_str()) != 0 && errno == EBUSY && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
}

bool OperationCgroups::populated(std::string_view operation_id) const {
  return is_plain_name(operation_id) && events_say_populated(path_of(operation_id));
}

std::vector<std::string> OperationCgroups::operation_ids() const {
  std::vector<std::string> ids;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(base_, error)) {
    const auto name = entry.path().filename().string();
    if (entry.is_directory(error) && name.rfind(operation_prefix, 0) == 0) ids.push_back(name.substr(operation_prefix.size()));
  }
  return ids;
}

}  // namespace tether::agent
