#pragma once
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

namespace tether::store::audit {

struct Entry {
  std::string actor;   // "automation_key:<id>", "api_key:<id>", "anonymous"
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

struct Filter {
  std::optional<std::string> key_id, server_id, run_id, action, since, until;
  int limit = 100;
};

struct Row {
  std::int64_t id;
  std::string at, actor, action, outcome, detail_json;
  std::optional<std::string> key_id, server_id, operation_id, run_id, client_ip;
  std::optional<int> status_code, exit_code;
  std::string stdout_head, stderr_head;  // bounded
};

// Newest first. stdout/stderr come from the entry's operation, cut to `output_bytes` each.
std::vector<Row> query(pqxx::transaction_base& txn, const Filter& filter, int output_bytes);

}  // namespace tether::store::audit
