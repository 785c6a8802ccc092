#pragma once
// The maintenance_windows table (sql/0010), and the lookups that resolve a window's scope. When a
// window is active is decided in controller/maintenance/ (it needs the cron code); here are the
// rows, and `covering`: the enabled windows whose scope covers a job or one of some servers.
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct MaintenanceWindowRecord {
  std::string id;
  std::string name;
  std::optional<std::int64_t> start_us, end_us;
  std::optional<std::string> recurring;  // a cron line
  std::optional<int> duration_seconds;   // recurring: each occurrence's length
  std::string timezone = "UTC";
  std::vector<std::string> scope_server_ids, scope_tags, scope_job_ids;  // all empty: everything
  std::string autonomy_override = "disabled";                             // disabled | approval
  bool enabled = true;
  std::optional<std::int64_t> activated_us, activated_until_us, suppressed_until_us;
  std::string created_by;
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
};

namespace maintenance {

void insert(pqxx::transaction_base& txn, const MaintenanceWindowRecord& window);
// Replaces the declaration (name, times, schedule, scope, override, enabled); the hand-set state
// stays. False when there is no such window.
bool update(pqxx::transaction_base& txn, const MaintenanceWindowRecord& window);
bool remove(pqxx::transaction_base& txn, const std::string& id);
std::optional<MaintenanceWindowRecord> find(pqxx::transaction_base& txn, const std::string& id,
                                            bool for_update = false);
// One page, oldest first by (created_at, id) (index maintenance_windows_by_created).
Page<MaintenanceWindowRecord> list(pqxx::transaction_base& txn, const PageRequest& page);

// The hand-set state: activate / deactivate. False when there is no such window.
bool set_manual_state(pqxx::transaction_base& txn, const std::string& id, std::optional<std::int64_t> activated_us,
                      std::optional<std::int64_t> activated_until_us, std::optional<std::int64_t> suppressed_until_us,
                      std::int64_t now_us);

// Enabled windows whose scope covers the job, one of the servers (by id or by one of its tags), or
// everything (an empty scope).
std::vector<MaintenanceWindowRecord> covering(pqxx::transaction_base& txn, const std::optional<std::string>& job_id,
                                              const std::vector<std::string>& server_ids);

// What a scope item names: a live server (by id or by name), a job (by id). nullopt: neither.
struct ScopeMatch {
  enum class Kind { server, job } kind;
  std::string id;
};
std::optional<ScopeMatch> resolve_scope_item(pqxx::transaction_base& txn, const std::string& item);
// The ids among `ids` that name no live server / no job.
std::vector<std::string> unknown_servers(pqxx::transaction_base& txn, const std::vector<std::string>& ids);
std::vector<std::string> unknown_jobs(pqxx::transaction_base& txn, const std::vector<std::string>& ids);

}  // namespace maintenance
}  // namespace tether::store
