#pragma once
// Callers waiting for operations to end (a sync exec waiting for its command). Notified once the
// result is stored, so what a waiter sees is exactly what a later poll returns.
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace tether::dispatch {

class OperationWaiters {
 public:
  using Callback = std::function<void(const store::OperationRecord&)>;
  // What a waiter needs: the ended operation with its stored output (a sync exec answers with
  // it), or only the fact that it ended. Output is up to megabytes: it is loaded only if wanted.
  enum class Interest { none, end, end_with_output };

  std::uint64_t add(const std::string& operation_id, Callback callback,
                    Interest interest = Interest::end_with_output);
  void remove(const std::string& operation_id, std::uint64_t token);
  Interest interest(const std::string& operation_id) const;
  // Calls and forgets every waiter of the operation (outside the lock).
  void notify(const store::OperationRecord& record);

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_token_ = 1;
  struct Waiter {
    std::uint64_t token;
    Callback callback;
    Interest interest;
  };
  std::multimap<std::string, Waiter> waiters_;
};

// The ended operation as its waiters need it, or nullopt when nobody waits for it.
std::optional<store::OperationRecord> ended_record_for_waiters(pqxx::transaction_base& txn,
                                                               const OperationWaiters& waiters,
                                                               const std::string& operation_id);

}  // namespace tether::dispatch
