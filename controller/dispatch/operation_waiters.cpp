#include "controller/dispatch/operation_waiters.hpp"

#include "controller/store/operation_store.hpp"

#include <algorithm>
#include <vector>

namespace tether::dispatch {

std::uint64_t OperationWaiters::add(const std::string& operation_id, Callback callback, Interest interest) {
  std::lock_guard lock(mutex_);
  const auto token = next_token_++;
  waiters_.emplace(operation_id, Waiter{token, std::move(callback), interest});
  return token;
}

void OperationWaiters::remove(const std::string& operation_id, std::uint64_t token) {
  std::lock_guard lock(mutex_);
  auto [first, last] = waiters_.equal_range(operation_id);
  for (auto it = first; it != last; ++it) {
    if (it->second.token == token) {
      waiters_.erase(it);
      return;
    }
  }
}

OperationWaiters::Interest OperationWaiters::interest(const std::string& operation_id) const {
  std::lock_guard lock(mutex_);
  auto most = Interest::none;
  auto [first, last] = waiters_.equal_range(operation_id);
  for (auto it = first; it != last; ++it) most = std::max(most, it->second.interest);
  return most;
}

void OperationWaiters::notify(const store::OperationRecord& record) {
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(record.id);
    for (auto it = first; it != last; ++it) callbacks.push_back(std::move(it->second.callback));
    waiters_.erase(first, last);
  }
  for (auto& callback : callbacks) callback(record);
}

std::optional<store::OperationRecord> ended_record_for_waiters(pqxx::transaction_base& txn,
                                                               const OperationWaiters& waiters,
                                                               const std::string& operation_id) {
  const auto interest = waiters.interest(operation_id);
  if (interest == OperationWaiters::Interest::none) return std::nullopt;
  return store::operations::find(txn, operation_id, interest == OperationWaiters::Interest::end_with_output);
}

}  // namespace tether::dispatch
