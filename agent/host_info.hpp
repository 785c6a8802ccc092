#pragma once
// What the agent tells the controller about its machine in `hello`.
#include <string>
#include <string_view>

namespace tether::agent {

struct HostInfo {
  std::string hostname;
  std::string os;      // PRETTY_NAME from /etc/os-release
  std::string kernel;  // uname release
  std::string arch;    // uname machine
  std::string boot_id;
};

// Fields that cannot be read are left empty (the controller shows them as unknown).
HostInfo read_host_info(const std::string& boot_id_file);

// The PRETTY_NAME value of an os-release file, unquoted; empty when absent.
std::string os_release_pretty_name(std::string_view os_release);

// The first line of a file, without surrounding whitespace; empty when unreadable.
std::string read_first_line(const std::string& path);

}  // namespace tether::agent
