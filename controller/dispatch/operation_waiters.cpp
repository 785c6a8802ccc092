#include "controller/dispatch/operation_waiters.hpp"

#include <vector>

namespace tether::dispatch {

std::uint64_t OperationWaiters::add(const std::string& operation_id, Callback callback) {
  std::lock_guard lock(mutex_);
  const auto token = next_token_++;
  waiters_.emplace(operation_id, std::make_pair(token, std::move(callback)));
  return token;
}

void OperationWaiters::remove(const std::string& operation_id, std::uint64_t token) {
  std::lock_guard lock(mutex_);
  auto [first, last] = waiters_.equal_range(operation_id);
  for (auto it = first; it != last; ++it) {
    if (it->second.first == token) {
      waiters_.erase(it);
      return;
    }
  }
}

bool OperationWaiters::has(const std::string& operation_id) const {
  std::lock_guard lock(mutex_);
  return waiters_.count(operation_id) > 0;
}

void OperationWaiters::notify(const store::OperationRecord& record) {
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(record.id);
    for (auto it = first; it != last; ++it) callbacks.push_back(std::move(it->second.second));
    waiters_.erase(first, last);
  }
  for (auto& callback : callbacks) callback(record);
}

}  // namespace tether::dispatch
