#pragma once
// What the journal keeps about one operation. Env values are deliberately absent: only the key
// names are recorded (PROTOCOL.md rule 2).
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
};

struct OperationRecord {
  std::string id;
  std::string type = "exec";
  std::string command;
  std::optional<std::string> working_directory;
  int timeout_seconds = 60;
  std::vector<std::string> env_keys;
  OperationState state = OperationState::accepted;
  std::string accepted_at;  // RFC 3339 UTC
  std::string boot_id;      // the boot the process (if any) belongs to
  std::optional<ProcessIdentity> process;
  std::optional<OperationResult> result;  // set when state == finished
};

std::string encode_record(const OperationRecord& record);
// Throws json::FieldError (std::invalid_argument) naming the field at fault.
OperationRecord decode_record(std::string_view text);

}  // namespace tether::agent
