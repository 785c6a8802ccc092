#include "tests/support/temp_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tether::testing {

TempDir::TempDir(std::string_view label) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + std::string(label) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (const char* keep = std::getenv("TETHER_TEST_KEEP_TEMP"); keep && *keep && std::strcmp(keep, "0") != 0) {
    std::fprintf(stderr, "keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;  // a destructor cannot report; leftovers in /tmp are harmless
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace tether::testing
