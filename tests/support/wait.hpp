#pragma once
#include <chrono>
#include <thread>

namespace tether::testing {

// Polls `predicate` until it returns true or `timeout` passes; returns its last answer.
// Tests wait for observable state this way instead of sleeping for a guessed duration.
template <class Predicate>
bool wait_until(Predicate&& predicate, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace tether::testing
