#pragma once
// What a fuzz target does when a parser breaks a promise without crashing: it reports which one
// and aborts, which libFuzzer (and the replay driver under ctest) count as a finding.
#include <cstdio>
#include <cstdlib>

namespace tether::fuzz {

inline void require(bool holds, const char* promise) {
  if (holds) return;
  std::fprintf(stderr, "fuzz target: broken promise: %s\n", promise);
  std::abort();
}

}  // namespace tether::fuzz
