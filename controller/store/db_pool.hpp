#pragma once
// A fixed set of worker threads, each owning one PostgreSQL connection. Database work never runs
// on the I/O threads: handlers submit a task here and are called back with its outcome.
#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tether::store {

class DbPool {
 public:
  using Work = std::function<void(pqxx::connection&)>;
  using Failure = std::function<void(std::exception_ptr)>;

  // `prepare` runs on every new connection (prepared statements). Connections are opened lazily
  // by each worker and reopened after a failure, so the pool starts even while PostgreSQL is down.
  DbPool(std::string url, std::size_t size, std::function<void(pqxx::connection&)> prepare);
  ~DbPool();
  DbPool(const DbPool&) = delete;
  DbPool& operator=(const DbPool&) = delete;

  // Runs `work` on a worker. If no connection can be had, or `work` throws, `on_failure` gets the
  // exception instead, so every submitted task is answered one way or the other.
  void submit(Work work, Failure on_failure);

  void stop();

  // For the metrics: workers, those running a task, and tasks waiting for one.
  struct Stats {
    std::size_t size = 0;
    std::size_t in_use = 0;
    std::size_t queued = 0;
  };
  Stats stats() const;
  // Called on the worker, before each task, with how long it waited in the queue. Set before
  // the pool is busy (at start-up); tasks picked up before may not be reported.
  using WaitObserver = std::function<void(std::chrono::steady_clock::duration)>;
  void observe_wait(WaitObserver observer);

 private:
  void worker_loop(std::size_t index);
  pqxx::connection& connection_for(std::size_t index);

  std::string url_;
  std::function<void(pqxx::connection&)> prepare_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  struct Task {
    Work work;
    Failure on_failure;
    std::chrono::steady_clock::time_point queued_at;
  };
  std::size_t in_use_ = 0;
  std::shared_ptr<const WaitObserver> wait_observer_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<pqxx::connection>> connections_;
  std::vector<std::thread> workers_;
};

}  // namespace tether::store
