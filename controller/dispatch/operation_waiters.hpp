#pragma once
// Callers waiting for operations to end (a sync exec waiting for its command). Notified once the
// result is stored, so what a waiter sees is exactly what a later poll returns.
#include "controller/store/records.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace tether::dispatch {

class OperationWaiters {
 public:
  using Callback = std::function<void(const store::OperationRecord&)>;

  std::uint64_t add(const std::string& operation_id, Callback callback);
  void remove(const std::string& operation_id, std::uint64_t token);
  bool has(const std::string& operation_id) const;
  // Calls and forgets every waiter of the operation (outside the lock).
  void notify(const store::OperationRecord& record);

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  std::multimap<std::string, std::pair<std::uint64_t, Callback>> waiters_;
};

}  // namespace tether::dispatch
