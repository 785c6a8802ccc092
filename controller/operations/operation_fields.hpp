#pragma once
// One operation's own fields: what its type needs, apart from the server it runs on. Declared
// once for every caller: the v1 bodies (api/v1/requests.hpp parses them), a job's or an ad hoc
// run's `operation.params`, and the dispatch the fan-out builds from them.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::operations {

inline constexpr int default_timeout_seconds = 60;
inline constexpr std::size_t max_command_chars = 8192;

// The rules of two fields, shared by every caller that takes them (v1, jobs, applications).
bool valid_container_name(std::string_view name);
bool valid_git_ref(std::string_view ref);

// What a CI call may carry to group and describe its workflow run (seed 003's run_id, run_context).
struct CiRunFields {
  std::optional<std::string> run_id;
  std::optional<std::string> run_context_json;
};

struct OperationFields {
  std::string type;
  std::string command;                            // exec
  std::optional<std::string> working_directory;   // exec
  std::map<std::string, std::string> env;         // exec `env`, deploy `env_overrides`: secrets
  int timeout_seconds = default_timeout_seconds;  // exec, deploy, restart, reboot
  std::optional<std::string> application_id;      // deploy
  std::optional<std::string> commit_ref;          // deploy
  std::optional<std::string> container_name;      // restart
  std::optional<std::string> credential_id;       // registry_login
  std::optional<std::string> registry_url;        // registry_logout
};

}  // namespace tether::operations

namespace tether::operations {

// The fields as stored (a job's or run's operation_params) and rendered: the v1 names of the
// fields the type uses, never the env values.
std::string params_json(const OperationFields& fields);
// The way back; env stays empty (the caller opens the sealed env values).
OperationFields fields_from_params(const std::string& type, const std::string& params_json);

}  // namespace tether::operations
