#pragma once
// What the retention pruner deletes, one bounded batch per call, each meant for its own short
// transaction. What goes with what (foreign keys kept whole):
// - output: the chunks of finished operations completed before `before`; the operation row stays
//   (status, exit code, byte counts) with output_pruned set.
// - runs: runs ended before `before`, with their targets (cascade), their operations and those
//   operations' output and deployment rows.
// - operations: finished operations that belong to no run, completed before `before`, with their
//   output and deployment rows.
// - audit: entries (and aggregated failure rows whose last failure is) older than `before`.
// Each answers how many rows of its kind it deleted; fewer than `limit` means nothing more is due.
#include "common/clock.hpp"

#include <pqxx/pqxx>

namespace tether::store::retention {

// Operations whose output was deleted (limit counts operations).
int prune_output(pqxx::transaction_base& txn, Clock::time_point before, int limit);
// Runs deleted (limit counts runs); `operations` is increased by the operations that went with them.
int prune_runs(pqxx::transaction_base& txn, Clock::time_point before, int limit, int& operations);
int prune_operations(pqxx::transaction_base& txn, Clock::time_point before, int limit);
int prune_audit(pqxx::transaction_base& txn, Clock::time_point before, int limit);

}  // namespace tether::store::retention
