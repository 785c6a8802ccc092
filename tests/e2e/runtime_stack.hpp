#pragma once
// A stack whose agent's container runtime is a recording script (restart, registry login/logout).
#include "tests/support/recording_runtime.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"
#include "tests/support/tether_stack.hpp"

#include <functional>

namespace tether::e2e {

struct RecordingRuntimeStack {
  testing::TestDatabase database;
  testing::TempDir runtime_dir{"tether-runtime"};
  testing::RecordingRuntime runtime{runtime_dir.path()};
  testing::TetherStack stack;

  // `adjust` adds what a test file needs beyond the recording runtime.
  explicit RecordingRuntimeStack(const std::function<void(testing::StackOptions&)>& adjust = {})
      : stack(database, options(runtime, adjust)) {}

 private:
  static testing::StackOptions options(const testing::RecordingRuntime& runtime,
                                       const std::function<void(testing::StackOptions&)>& adjust) {
    testing::StackOptions out;
    out.container_runtime = runtime.path().string();
    if (adjust) adjust(out);
    return out;
  }
};

}  // namespace tether::e2e
