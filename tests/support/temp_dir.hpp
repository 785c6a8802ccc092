#pragma once
#include <filesystem>
#include <string_view>

namespace tether::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction, or by
// the process guard (process_guard.hpp) when the test process dies first.
// Set TETHER_TEST_KEEP_TEMP=1 to keep it for a post-mortem (its path is printed then).
class TempDir {
 public:
  explicit TempDir(std::string_view label = "tether-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

}  // namespace tether::testing
