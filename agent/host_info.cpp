#include "agent/host_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>

namespace tether::agent {
namespace {

std::string trimmed_copy(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// os-release values follow shell quoting rules; a quoted value may escape \", \\, \$ and \`.
std::string unquote(std::string_view value) {
  if (value.size() < 2 || (value.front() != '"' && value.front() != '\'') || value.back() != value.front()) {
    return std::string(value);
  }
  const char quote = value.front();
  value = value.substr(1, value.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (quote == '"' && value[i] == '\\' && i + 1 < value.size()) ++i;
    out.push_back(value[i]);
  }
  return out;
}

}  // namespace

std::string os_release_pretty_name(std::string_view os_release) {
  constexpr std::string_view key = "PRETTY_NAME=";
  std::istringstream lines{std::string(os_release)};
  std::string line;
  while (std::getline(lines, line)) {
    const auto trimmed = trimmed_copy(line);
    if (trimmed.rfind(key, 0) == 0) return unquote(std::string_view(trimmed).substr(key.size()));
  }
  return {};
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  return trimmed_copy(line);
}

HostInfo read_host_info(const std::string& boot_id_file) {
  HostInfo info;
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) == 0) info.hostname = name.data();

  struct utsname uts {};
  if (::uname(&uts) == 0) {
    info.kernel = uts.release;
    info.arch = uts.machine;
  }

  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    std::ifstream in(path);
    if (!in) continue;
    std::ostringstream content;
    content << in.rdbuf();
    info.os = os_release_pretty_name(content.str());
    break;
  }
  info.boot_id = read_first_line(boot_id_file);
  return info;
}

}  // namespace tether::agent
