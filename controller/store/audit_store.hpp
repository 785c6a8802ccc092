#pragma once
// The audit log: one row per call, except failed authentications, which are one row per client
// address and window (record_authentication_failure) and never carry a server_id or run_id: what
// such a caller claimed is kept apart, so that it cannot appear in a real run's or server's trail.
#include "controller/store/page.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::store::audit {

struct Entry {
  std::string actor;   // "automation_key:<id>", "api_key:<id>", "user:<username>", "cli", "anonymous"
  std::string action;  // "v1.exec", "servers.create", ...
  std::optional<std::string> target;
  std::optional<std::string> client_ip;
  std::string outcome;      // "allowed" | "denied" | "failed"
  std::string detail_json;  // never secrets; env key names only
  std::optional<std::string> key_id;
  std::optional<std::string> server_id;
  std::optional<std::string> operation_id;
  std::optional<std::string> run_id;
  std::optional<int> status_code;
};

void record(pqxx::transaction_base& txn, const Entry& entry);

struct AuthFailure {
  std::string window_key;  // the address's current window (AuthFailureLimiter::Verdict)
  std::string client_ip;   // as counted (IPv6 as its /64)
  std::string detail_json; // the first call's action and reason
  int status_code;         // what this call is answered: 401, or 429 past the threshold
  std::optional<std::string> claimed_server_id, claimed_run_id;  // the first call's claims
};

// Counts one failed authentication in the row of its window (action "auth.failed", actor
// "anonymous"), creating that row with this call's details when it is the window's first.
void record_authentication_failure(pqxx::transaction_base& txn, const AuthFailure& failure);

struct Filter {
  std::optional<std::string> key_id, server_id, run_id, action, since, until;
  std::optional<std::string> action_prefix;  // "servers." matches servers.create, servers.update, ...
  std::optional<std::string> actor;          // exact: "user:ann", "api_key:<id>", "anonymous", "cli"
  std::optional<std::string> username;       // the actor "user:<username>", or an actor named so
  int limit = 100;
};

struct Row {
  std::int64_t id;
  std::string at, actor, action, outcome, detail_json;
  std::int64_t at_unix = 0;  // `at` in whole Unix seconds
  std::optional<std::string> target;
  std::optional<std::string> key_id, server_id, operation_id, run_id, client_ip;
  std::optional<int> status_code, exit_code;
  // Failed authentications only: what the caller claimed, how many calls the row stands for and
  // when the last one came.
  std::optional<std::string> claimed_server_id, claimed_run_id, last_at;
  std::optional<int> failures;
  std::string stdout_head, stderr_head;  // bounded
};

// Newest first (at, then id, both descending), at most filter.limit entries. stdout/stderr come
// from the entry's operation, cut to `output_bytes` each.
std::vector<Row> query(pqxx::transaction_base& txn, const Filter& filter, int output_bytes);
// The same as pages (filter.limit is not used): the cursor's sort key is `at` in epoch
// microseconds and its id the entry's (a bigserial). Served by audit_log_at (or _by_key, _by_actor).
Page<Row> page(pqxx::transaction_base& txn, const Filter& filter, const PageRequest& request, int output_bytes);

}  // namespace tether::store::audit
