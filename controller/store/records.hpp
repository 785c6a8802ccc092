#pragma once
// Rows as the rest of the controller sees them. Timestamps are already RFC 3339 UTC text.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tether::store {

struct ServerRecord {
  std::string id;
  std::string name;
  std::vector<std::string> tags;
  std::string status;
  std::optional<std::string> hostname, os, kernel, arch, agent_version, boot_id;
  std::optional<std::string> last_seen_at;
  std::string created_at;
};

struct AgentCredential {
  std::string server_id;
  std::string token_hash;
  std::string status;
};

// An operator API key (tak_). Only the secret's SHA-256 is kept.
struct ApiKeyRecord {
  std::string id;
  std::string name;
  std::string role;
  std::string key_hash;
  bool revoked = false;
  bool expired = false;  // expires_at has passed
  std::string key_prefix;
  std::string created_by;  // "cli" or the creating admin's actor
  std::string created_at;
  std::optional<std::string> last_used_at, expires_at, revoked_at;
};

struct AutomationKeyRecord {
  std::string id;
  std::string name;
  std::string key_prefix;
  std::string key_hash;
  std::vector<std::string> allowed_server_ids;
  std::vector<std::string> allowed_operations;
  std::vector<std::string> allowed_credential_ids;
  std::vector<std::string> ip_allowlist;
  int rate_limit_per_minute = 100;
  std::optional<std::string> expires_at;
  bool expired = false;  // computed by PostgreSQL against its clock
  std::optional<std::string> revoked_at;
  std::optional<std::string> last_used_at;
  std::string created_at;
};

struct NewOperation {
  std::string id;
  std::string type;
  std::string server_id;
  std::string params_json;  // never contains env values
  std::vector<std::string> env_keys;
  std::string status;  // queued | dispatched
  int timeout_seconds = 60;
  std::optional<std::string> run_id;
  std::optional<std::string> run_context_json;
  std::string created_by;
  std::optional<std::string> automation_key_id;
  std::optional<std::string> automation_run_id;  // the fan-out run it belongs to
  std::optional<int> run_attempt;
};

struct OperationRecord {
  std::string id;
  std::string type;
  std::string server_id;
  std::string server_name;
  std::string status;
  std::optional<int> exit_code;
  std::optional<std::int64_t> duration_ms;
  int timeout_seconds = 60;
  std::optional<std::string> run_id;
  std::optional<std::string> run_context_json;
  std::optional<std::string> error;
  std::string params_json;
  std::vector<std::string> env_keys;
  std::string created_by;
  std::uint64_t output_seq = 0;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::string created_at;
  std::optional<std::string> started_at;
  std::optional<std::string> completed_at;
  std::optional<std::string> automation_run_id;
  std::optional<int> run_attempt;
  // Filled only when asked for (find_operation with output).
  std::string stdout_data;
  std::string stderr_data;
};

struct OutputChunk {
  std::uint64_t seq;
  int stream;  // 1 stdout, 2 stderr
  std::string data;
};

// What the controller has stored of an operation, for the welcome after a reconnect.
struct StoredProgress {
  std::string operation_id;
  std::string status;
  std::uint64_t output_seq = 0;
  bool known = false;
  bool cancel_requested = false;
};

}  // namespace tether::store
