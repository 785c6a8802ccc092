#pragma once
// What the metrics read from PostgreSQL: counts by status, and the final state of ended operations.
#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::store::metrics {

// status -> how many (decommissioned servers included; every run kept).
std::map<std::string, std::int64_t> servers_by_status(pqxx::transaction_base& txn);
std::map<std::string, std::int64_t> runs_by_status(pqxx::transaction_base& txn);

struct EndedOperation {
  std::string type;
  std::string status;
  std::optional<std::chrono::milliseconds> duration;
};
// Those of `ids` that have reached a final status (completed, failed, timeout, canceled).
std::vector<EndedOperation> ended_operations(pqxx::transaction_base& txn, const std::vector<std::string>& ids);

}  // namespace tether::store::metrics
