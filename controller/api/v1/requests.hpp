#pragma once
// The bodies of the v1 POST endpoints, validated against seed 003's fields and limits.
// Every parser throws http::ApiError 422 whose detail names the field and the rule it breaks.
#include "controller/operations/operation_fields.hpp"

#include <boost/json/fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::api::v1 {

using operations::max_command_chars;
inline constexpr std::size_t max_run_id_chars = 200;
inline constexpr std::size_t max_env_keys = 200;
inline constexpr std::size_t max_env_bytes = 64 * 1024;
inline constexpr int min_timeout_seconds = 1;
inline constexpr int max_timeout_seconds = 900;
inline constexpr int default_timeout_seconds = operations::default_timeout_seconds;
inline constexpr int default_reboot_timeout_seconds = 300;

// Fields every v1 call may carry to group and describe the CI run.
using RunFields = operations::CiRunFields;

using OperationFields = operations::OperationFields;

// The operation types, in the order the API lists them.
inline constexpr const char* operation_types[] = {"exec",   "deploy",         "restart",
                                                  "reboot", "registry_login", "registry_logout"};

// Validates `body` as the fields of an operation of `type`; errors name the field after `prefix`
// ("operation.params.command: must not be empty").
OperationFields parse_operation_fields(std::string_view type, const boost::json::object& body,
                                       const std::string& prefix);

// A v1 body: the operation's fields, the server it targets (a deploy's is its application's) and
// the CI run fields.
struct OperationRequest : RunFields, OperationFields {
  std::string server_id;
};
using ExecRequest = OperationRequest;
using DeployRequest = OperationRequest;
using RestartRequest = OperationRequest;
using RebootRequest = OperationRequest;
using RegistryLoginRequest = OperationRequest;
using RegistryLogoutRequest = OperationRequest;

ExecRequest parse_exec_request(std::string_view body);
DeployRequest parse_deploy_request(std::string_view body);
RestartRequest parse_restart_request(std::string_view body);
RebootRequest parse_reboot_request(std::string_view body);
RegistryLoginRequest parse_registry_login_request(std::string_view body);
RegistryLogoutRequest parse_registry_logout_request(std::string_view body);

using operations::valid_container_name;
using operations::valid_git_ref;

}  // namespace tether::api::v1
