#pragma once
// JSON control messages (PROTOCOL.md). Each struct maps one message type; encode() writes the
// text frame, decode_*() reads one and throws json::FieldError naming the field at fault.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tether::proto {

inline constexpr int protocol_version = 1;

inline constexpr const char* operation_types[] = {"exec",   "deploy",         "restart",
                                                  "reboot", "registry_login", "registry_logout"};

// ---- agent -> controller -------------------------------------------------------------------

struct JournalEntrySummary {
  std::string operation_id;
  bool finished = false;  // "state": "finished" | "running"
  std::uint64_t last_seq = 0;
};

// Bounds on what a hello may carry (PROTOCOL.md); a hello past them is a protocol error.
namespace hello_limits {
inline constexpr std::size_t short_text_bytes = 64;   // agent_version, arch, boot_id, each capability
inline constexpr std::size_t hostname_bytes = 255;
inline constexpr std::size_t long_text_bytes = 256;   // os, kernel
inline constexpr std::size_t max_capabilities = 32;
inline constexpr std::size_t max_operations = 10000;  // journal entries listed
}  // namespace hello_limits

struct Hello {
  int protocol_version = proto::protocol_version;
  std::string agent_version;
  std::string hostname;
  std::string os;
  std::string kernel;
  std::string arch;
  std::string boot_id;
  std::vector<std::string> capabilities;
  std::vector<JournalEntrySummary> operations;
};

struct Heartbeat {};

struct Accepted {
  std::string operation_id;
};

struct Rejected {
  std::string operation_id;
  std::string error;
};

struct Started {
  std::string operation_id;
};

struct Finished {
  std::string operation_id;
  std::string status;  // completed | timeout | failed | canceled
  std::optional<int> exit_code;
  std::int64_t duration_ms = 0;
  std::optional<std::string> error;
  std::uint64_t last_seq = 0;
  std::optional<std::string> resolved_commit;  // deploy: the commit the ref resolved to
};

using AgentMessage = std::variant<Hello, Heartbeat, Accepted, Rejected, Started, Finished>;

// ---- controller -> agent -------------------------------------------------------------------

struct StoredOperationState {
  std::string operation_id;
  std::uint64_t stored_seq = 0;
  bool finished_stored = false;
};

struct Welcome {
  std::string server_id;
  int heartbeat_interval_seconds = 10;
  std::vector<StoredOperationState> operations;
};

// Fields beyond the common ones are set per operation_type (PROTOCOL.md, "Operation types").
struct Dispatch {
  std::string operation_id;
  std::string operation_type = "exec";  // exec | deploy | restart | reboot | registry_login | registry_logout
  std::string command;                  // exec: the shell command; deploy: the deploy command
  std::optional<std::string> working_directory;  // exec: cwd; deploy: the git checkout
  std::map<std::string, std::string> env;        // exec: env; deploy: env_overrides
  int timeout_seconds = 60;
  std::optional<std::string> commit_ref;      // deploy: branch, tag or SHA to check out
  std::optional<std::string> container_name;  // restart
  std::optional<std::string> registry_url;    // registry_login, registry_logout
  std::optional<std::string> username;        // registry_login
  std::optional<std::string> password;        // registry_login: goes to the runtime's stdin only
};

struct Ack {
  std::string operation_id;
  std::uint64_t seq = 0;
};

struct FinishedAck {
  std::string operation_id;
};

struct Cancel {
  std::string operation_id;
};

using ControllerMessage = std::variant<Welcome, Dispatch, Ack, FinishedAck, Cancel>;

std::string encode(const AgentMessage& message);
std::string encode(const ControllerMessage& message);

// An unknown "type" yields std::nullopt (peers ignore message types they do not know).
std::optional<AgentMessage> decode_agent_message(std::string_view text);
std::optional<ControllerMessage> decode_controller_message(std::string_view text);

bool is_finished_status(std::string_view status);

// What an agent does before sending its hello: control characters become spaces and each text
// field is cut (at a UTF-8 character boundary) to its bound, so that an odd host is still let in.
void fit_to_limits(Hello& hello);

}  // namespace tether::proto
