#pragma once
// Where the controller's lifecycles read the time. The scheduler, the run fan-out and the operation
// lifecycle take a Clock instead of calling system_clock themselves, so that tests can move time
// by hand (misfires, retries, fire limits, deadlines) instead of sleeping.
#include <atomic>
#include <chrono>

namespace tether {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

// A clock that moves only when told to. Safe to read from any thread.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start) : now_(start.time_since_epoch().count()) {}
  time_point now() const override { return time_point(time_point::duration(now_.load())); }
  void set(time_point when) { now_.store(when.time_since_epoch().count()); }
  void advance(std::chrono::system_clock::duration by) { now_.fetch_add(by.count()); }

 private:
  std::atomic<time_point::rep> now_;
};

}  // namespace tether
