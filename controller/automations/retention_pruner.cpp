#include "controller/automations/retention_pruner.hpp"

#include "controller/store/retention_store.hpp"

#include <spdlog/spdlog.h>

namespace tether::automations {
namespace {

// Calls `remove` (one batch, in its own transaction) until a batch is short or most_batches ran.
template <class Delete>
std::int64_t in_batches(pqxx::connection& connection, const RetentionSettings& settings, Pruned& pruned,
                        Delete&& remove) {
  std::int64_t total = 0;
  for (int i = 0;; ++i) {
    if (i == settings.most_batches) {
      pruned.more = true;
      break;
    }
    pqxx::work txn(connection);
    const int deleted = remove(txn);
    txn.commit();
    ++pruned.batches;
    total += deleted;
    if (deleted < settings.batch) break;
  }
  return total;
}

}  // namespace

Pruned prune_retention(pqxx::connection& connection, const Clock& clock, const RetentionSettings& settings) {
  const auto now = clock.now();
  Pruned pruned;
  pruned.output_operations = in_batches(connection, settings, pruned, [&](pqxx::work& txn) {
    return store::retention::prune_output(txn, now - settings.output, settings.batch);
  });
  std::int64_t with_runs = 0;
  pruned.runs = in_batches(connection, settings, pruned, [&](pqxx::work& txn) {
    int operations = 0;
    const int runs = store::retention::prune_runs(txn, now - settings.runs, settings.batch, operations);
    with_runs += operations;
    return runs;
  });
  pruned.operations = with_runs + in_batches(connection, settings, pruned, [&](pqxx::work& txn) {
                        return store::retention::prune_operations(txn, now - settings.operations, settings.batch);
                      });
  pruned.audit_entries = in_batches(connection, settings, pruned, [&](pqxx::work& txn) {
    return store::retention::prune_audit(txn, now - settings.audit, settings.batch);
  });
  return pruned;
}

PassResult retention_pass(pqxx::connection& connection, const Clock& clock, const RetentionSettings& settings) {
  const auto pruned = prune_retention(connection, clock, settings);
  if (pruned.output_operations + pruned.runs + pruned.operations + pruned.audit_entries > 0) {
    spdlog::info("event=retention_pruned output_operations={} runs={} operations={} audit_entries={} batches={}",
                 pruned.output_operations, pruned.runs, pruned.operations, pruned.audit_entries, pruned.batches);
  }
  PassResult result;
  result.metrics = {{"outputPrunedOperations", pruned.output_operations},
                    {"runsDeleted", pruned.runs},
                    {"operationsDeleted", pruned.operations},
                    {"auditEntriesDeleted", pruned.audit_entries},
                    {"batches", pruned.batches},
                    {"outputRetentionDays", settings.output.count() / 24},
                    {"operationRetentionDays", settings.operations.count() / 24},
                    {"runRetentionDays", settings.runs.count() / 24},
                    {"auditRetentionDays", settings.audit.count() / 24}};
  // More is due: the next pass comes a minute later rather than an hour.
  if (pruned.more) result.next_in = std::chrono::minutes(1);
  return result;
}

}  // namespace tether::automations
