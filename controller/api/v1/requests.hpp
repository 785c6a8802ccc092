#pragma once
// POST /api/automation/v1/exec, validated against seed 003's fields and limits.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::api::v1 {

inline constexpr std::size_t max_command_chars = 8192;
inline constexpr std::size_t max_env_keys = 200;
inline constexpr std::size_t max_env_bytes = 64 * 1024;
inline constexpr int min_timeout_seconds = 1;
inline constexpr int max_timeout_seconds = 900;
inline constexpr int default_timeout_seconds = 60;

struct ExecRequest {
  std::string server_id;
  std::string command;
  std::optional<std::string> working_directory;
  std::map<std::string, std::string> env;
  int timeout_seconds = default_timeout_seconds;
  std::optional<std::string> run_id;
  std::optional<std::string> run_context_json;
};

// Throws http::ApiError 422 whose detail names the field and the rule it breaks.
ExecRequest parse_exec_request(std::string_view body);

}  // namespace tether::api::v1
