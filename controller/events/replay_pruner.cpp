#include "controller/events/replay_pruner.hpp"

#include "controller/store/trigger_store.hpp"

namespace tether::events {
namespace {

constexpr int batch = 1000;
constexpr int most_batches = 1000;  // a pass stops after this many; the next one goes on

template <class Delete>
std::int64_t in_batches(pqxx::connection& connection, int& batches, Delete&& remove) {
  std::int64_t total = 0;
  for (int i = 0; i < most_batches; ++i) {
    pqxx::work txn(connection);
    const int deleted = remove(txn);
    txn.commit();
    ++batches;
    total += deleted;
    if (deleted < batch) break;
  }
  return total;
}

}  // namespace

automations::PassResult prune_replays(pqxx::connection& connection, const Clock& clock, const ReplayRetention& keep) {
  const auto now = clock.now();
  int batches = 0;
  const auto deliveries = in_batches(connection, batches, [&](pqxx::work& txn) {
    return store::triggers::prune_deliveries(txn, now - keep.keep_deliveries, batch);
  });
  const auto events = in_batches(connection, batches, [&](pqxx::work& txn) {
    return store::events::prune_processed(txn, now - keep.keep_processed, batch);
  });
  automations::PassResult result;
  result.metrics = {{"deliveryIdsPruned", deliveries}, {"eventsPruned", events}, {"batches", batches}};
  return result;
}

}  // namespace tether::events
