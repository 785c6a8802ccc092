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
    tasks_.push_back(Task{std::move(work), std::move(on_failure)});
  }
  wake_.notify_one();
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
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
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
