#include "tests/support/temp_dir.hpp"

#include "tests/support/process_guard.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace tether::testing {
namespace {
bool keep_requested() {
  const char* keep = std::getenv("TETHER_TEST_KEEP_TEMP");
  return keep && *keep && std::strcmp(keep, "0") != 0;
}
}  // namespace

TempDir::TempDir(std::string_view label) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + std::string(label) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
  if (!keep_requested()) remove_on_test_process_death(path_);
}

TempDir::~TempDir() {
  if (keep_requested()) {
    std::fprintf(stderr, "keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ignored;  // a destructor cannot report; leftovers in /tmp are harmless
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace tether::testing
