#pragma once
// The `retention-pruner` loop's pass (hourly): deletes what is older than its age, in batches of
// `batch` rows, each batch its own short transaction (rows picked FOR UPDATE SKIP LOCKED, so
// nothing waits on it for long), at most `most_batches` per kind and pass (the next pass goes on).
// What goes with what: store/retention_store.hpp. Ages come from the controller's flags; time from
// the injected clock.
#include "common/clock.hpp"
#include "controller/automations/loop.hpp"

namespace tether::automations {

struct RetentionSettings {
  std::chrono::hours output{24 * 30};
  std::chrono::hours operations{24 * 90};
  std::chrono::hours runs{24 * 90};
  std::chrono::hours audit{24 * 365};
  int batch = 1000;
  int most_batches = 100;
};

struct Pruned {
  std::int64_t output_operations = 0;  // operations whose output was deleted
  std::int64_t runs = 0;
  std::int64_t operations = 0;         // with their runs or alone
  std::int64_t audit_entries = 0;
  int batches = 0;
  bool more = false;  // a kind stopped at most_batches
};

Pruned prune_retention(pqxx::connection& connection, const Clock& clock, const RetentionSettings& settings);

PassResult retention_pass(pqxx::connection& connection, const Clock& clock, const RetentionSettings& settings);

}  // namespace tether::automations
