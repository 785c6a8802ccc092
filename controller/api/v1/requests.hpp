#pragma once
// The bodies of the v1 POST endpoints, validated against seed 003's fields and limits.
// Every parser throws http::ApiError 422 whose detail names the field and the rule it breaks.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::api::v1 {

inline constexpr std::size_t max_command_chars = 8192;
inline constexpr std::size_t max_run_id_chars = 200;
inline constexpr std::size_t max_env_keys = 200;
inline constexpr std::size_t max_env_bytes = 64 * 1024;
inline constexpr int min_timeout_seconds = 1;
inline constexpr int max_timeout_seconds = 900;
inline constexpr int default_timeout_seconds = 60;
inline constexpr int default_reboot_timeout_seconds = 300;

// Fields every v1 call may carry to group and describe the CI run.
struct RunFields {
  std::optional<std::string> run_id;
  std::optional<std::string> run_context_json;
};

struct ExecRequest : RunFields {
  std::string server_id;
  std::string command;
  std::optional<std::string> working_directory;
  std::map<std::string, std::string> env;
  int timeout_seconds = default_timeout_seconds;
};

struct DeployRequest : RunFields {
  std::string application_id;
  std::optional<std::string> commit_ref;  // default: the application's deploy branch
  std::map<std::string, std::string> env_overrides;
  int timeout_seconds = default_timeout_seconds;
};

struct RestartRequest : RunFields {
  std::string server_id;
  std::string container_name;
  int timeout_seconds = default_timeout_seconds;
};

struct RebootRequest : RunFields {
  std::string server_id;
  int timeout_seconds = default_reboot_timeout_seconds;
};

struct RegistryLoginRequest : RunFields {
  std::string server_id;
  std::string credential_id;
};

struct RegistryLogoutRequest : RunFields {
  std::string server_id;
  std::string registry_url;
};

ExecRequest parse_exec_request(std::string_view body);
DeployRequest parse_deploy_request(std::string_view body);
RestartRequest parse_restart_request(std::string_view body);
RebootRequest parse_reboot_request(std::string_view body);
RegistryLoginRequest parse_registry_login_request(std::string_view body);
RegistryLogoutRequest parse_registry_logout_request(std::string_view body);

bool valid_container_name(std::string_view name);
bool valid_git_ref(std::string_view ref);

}  // namespace tether::api::v1
