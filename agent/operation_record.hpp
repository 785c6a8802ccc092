#pragma once
// What the journal keeps about one operation. Env values and the registry password are
// deliberately absent: only env key names are recorded (PROTOCOL.md rule 2).
#include "agent/process_identity.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent {

enum class OperationState { accepted, running, finished };

std::string_view to_string(OperationState state);

struct OperationResult {
  std::string status;  // completed | timeout | failed | canceled
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;
  std::optional<std::string> error;
  std::uint64_t last_seq = 0;
  std::optional<std::string> resolved_commit;  // deploy: the commit the ref resolved to
};

struct OperationRecord {
  std::string id;
  std::string type = "exec";
  std::string command;  // exec: the command; deploy: the deploy command; others: empty
  std::optional<std::string> working_directory;
  std::optional<std::string> commit_ref;      // deploy
  std::optional<std::string> container_name;  // restart
  std::optional<std::string> registry_url;    // registry_login, registry_logout
  std::optional<std::string> username;        // registry_login
  int timeout_seconds = 60;
  std::vector<std::string> env_keys;
  OperationState state = OperationState::accepted;
  std::string accepted_at;  // RFC 3339 UTC
  std::string boot_id;      // the boot at dispatch: the process (if any) belongs to it; reboot compares it
  std::optional<ProcessIdentity> process;
  std::optional<OperationResult> result;  // set when state == finished
};

std::string encode_record(const OperationRecord& record);
// Throws json::FieldError (std::invalid_argument) naming the field at fault.
OperationRecord decode_record(std::string_view text);

}  // namespace tether::agent
