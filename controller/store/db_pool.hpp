#pragma once
// A fixed set of worker threads, each owning one PostgreSQL connection. Database work never runs
// on the I/O threads: handlers submit a task here and are called back with its outcome.
#include <pqxx/pqxx>

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

 private:
  void worker_loop(std::size_t index);
  pqxx::connection& connection_for(std::size_t index);

  std::string url_;
  std::function<void(pqxx::connection&)> prepare_;
  std::mutex mutex_;
  std::condition_variable wake_;
  struct Task {
    Work work;
    Failure on_failure;
  };
  std::deque<Task> tasks_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<pqxx::connection>> connections_;
  std::vector<std::thread> workers_;
};

}  // namespace tether::store
