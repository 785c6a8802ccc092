#pragma once
// system_automations: each background loop's pause flag and last pass (seed 001), and the
// PostgreSQL advisory lock that lets one replica at a time run a loop's pass.
#include "common/clock.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store::system_automations {

struct Row {
  std::string key;
  bool paused = false;
  std::optional<std::int64_t> last_started_us, last_completed_us, last_duration_ms;
  std::optional<std::string> last_error, last_instance;
  std::string metrics_json = "{}";
  std::int64_t runs = 0, failures = 0;
};

// Rows of these keys; a key without a row reads as never run and not paused.
std::vector<Row> load(pqxx::transaction_base& txn, const std::vector<std::string>& keys);

// Session-level lock on the connection (outside any transaction): pg_try_advisory_lock on
// (hashtext('tether.automation'), hashtext(key)). Answers whether it was taken and, read in the
// same statement, whether the loop is paused. unlock releases it.
struct LockAttempt {
  bool locked = false;
  bool paused = false;
};
LockAttempt try_lock(pqxx::connection& connection, const std::string& key);
void unlock(pqxx::connection& connection, const std::string& key);

// Writes the pause flag (creating the row). Returns nothing; `by` is the caller's actor.
void set_paused(pqxx::transaction_base& txn, const std::string& key, bool paused, Clock::time_point now,
                const std::string& by);

struct PassRecord {
  std::string key;
  std::string instance;
  Clock::time_point started, completed;
  std::optional<std::string> error;  // nullopt: the pass succeeded
  std::string metrics_json;          // written only when the pass succeeded
};
void record_pass(pqxx::transaction_base& txn, const PassRecord& pass);

// agent_sessions rows of `instance` against the sockets it really holds: rows of servers not in
// `held` (older than `grace_seconds`, so a socket connecting right now keeps its row) are dropped;
// each held server's row is claimed for `instance`. Counts what changed.
struct SessionReconciliation {
  int dropped = 0;
  int claimed = 0;  // held sockets whose row was missing or named another instance
  int held = 0;
};
SessionReconciliation reconcile_sessions(pqxx::transaction_base& txn, const std::string& instance,
                                         const std::vector<std::string>& held, int grace_seconds);

}  // namespace tether::store::system_automations
