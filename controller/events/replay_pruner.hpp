#pragma once
// The `webhook-replay-pruner` loop's pass (every 10 minutes): forgets accepted webhook delivery ids
// older than keep_deliveries (a signed delivery is refused anyway once its timestamp is older than
// the skew window; a GitHub one carries no timestamp, so its id is what refuses a replay) and
// events processed longer ago than keep_processed. Batches of 1,000 rows, each its own short
// transaction.
#include "common/clock.hpp"
#include "controller/automations/loop.hpp"

namespace tether::events {

struct ReplayRetention {
  std::chrono::hours keep_processed{24};
  std::chrono::hours keep_deliveries{24 * 30};
};

automations::PassResult prune_replays(pqxx::connection& connection, const Clock& clock, const ReplayRetention& keep);

}  // namespace tether::events
