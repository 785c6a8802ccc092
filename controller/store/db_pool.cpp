#include "controller/store/db_pool.hpp"

#include <spdlog/spdlog.h>

namespace tether::store {

DbPool::DbPool(std::string url, std::size_t size, std::function<void(pqxx::connection&)> prepare)
    : url_(std::move(url)), prepare_(std::move(prepare)), connections_(size) {
  workers_.reserve(size);
  for (std::size_t i = 0; i < size; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

DbPool::~DbPool() { stop(); }

void DbPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void DbPool::submit(Work work, Failure on_failure) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(Task{std::move(work), std::move(on_failure), std::chrono::steady_clock::now()});
  }
  wake_.notify_one();
}

DbPool::Stats DbPool::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{workers_.size(), in_use_, tasks_.size()};
}

void DbPool::observe_wait(WaitObserver observer) {
  std::lock_guard lock(mutex_);
  wait_observer_ = std::make_shared<const WaitObserver>(std::move(observer));
}

pqxx::connection& DbPool::connection_for(std::size_t index) {
  auto& slot = connections_[index];
  if (slot && !slot->is_open()) slot.reset();
  if (!slot) {
    auto fresh = std::make_unique<pqxx::connection>(url_);
    prepare_(*fresh);
    slot = std::move(fresh);
  }
  return *slot;
}

void DbPool::worker_loop(std::size_t index) {
  for (;;) {
    Task task;
    std::shared_ptr<const WaitObserver> observer;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
      ++in_use_;
      observer = wait_observer_;
    }
    if (observer) (*observer)(std::chrono::steady_clock::now() - task.queued_at);
    struct Release {
      DbPool& pool;
      ~Release() {
        std::lock_guard lock(pool.mutex_);
        --pool.in_use_;
      }
    } release{*this};
    try {
      task.work(connection_for(index));
    } catch (const pqxx::broken_connection& e) {
      connections_[index].reset();  // reopened for the next task
      spdlog::warn("event=db_connection_lost worker={} error=\"{}\"", index, e.what());
      task.on_failure(std::current_exception());
    } catch (...) {
      task.on_failure(std::current_exception());
    }
  }
}

}  // namespace tether::store
