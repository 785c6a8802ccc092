#include "controller/api/v1/requests.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "common/utf8.hpp"
#include "controller/http/responses.hpp"

#include <fmt/format.h>

namespace tether::api::v1 {
namespace {

using http::ApiError;
using http::bhttp::status;

[[noreturn]] void invalid(const std::string& detail) { throw ApiError(status::unprocessable_entity, detail); }

bool valid_env_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::map<std::string, std::string> parse_env(const boost::json::object& body, std::string_view key,
                                             const std::string& field) {
  std::map<std::string, std::string> env;
  auto object = json::optional_object(body, key);
  if (!object) return env;
  if (object->size() > max_env_keys) {
    invalid(fmt::format("{}: at most {} keys are allowed, got {}", field, max_env_keys, object->size()));
  }
  std::size_t total = 0;
  for (const auto& item : *object) {
    const std::string key(item.key());
    if (!valid_env_name(key)) {
      invalid(fmt::format(
          "{}: '{}' is not a valid variable name (letters, digits and _, not starting with a digit)", field,
          key.substr(0, 64)));
    }
    if (!item.value().is_string()) invalid(fmt::format("{}.{}: value must be a string", field, key));
    const std::string value(item.value().as_string());
    total += key.size() + value.size();
    env.emplace(key, value);
  }
  if (total > max_env_bytes) {
    invalid(fmt::format("{}: total size {} bytes exceeds the limit of {} bytes (64KB)", field, total, max_env_bytes));
  }
  return env;
}

std::string required_uuid(const boost::json::object& body, std::string_view field, const std::string& prefix = "") {
  auto parsed = ids::parse_uuid(json::required_string(body, field));
  if (!parsed) invalid(fmt::format("{}{}: must be a UUID", prefix, field));
  return *parsed;
}

int parse_timeout(const boost::json::object& body, int fallback, const std::string& prefix) {
  auto timeout = json::optional_int(body, "timeout_seconds");
  if (!timeout) return fallback;
  if (*timeout < min_timeout_seconds || *timeout > max_timeout_seconds) {
    invalid(fmt::format("{}timeout_seconds: must be from {} to {}, got {}", prefix, min_timeout_seconds,
                        max_timeout_seconds, *timeout));
  }
  return static_cast<int>(*timeout);
}

void parse_run_fields(const boost::json::object& body, RunFields& out) {
  out.run_id = json::optional_string(body, "run_id");
  if (out.run_id && utf8::code_points(*out.run_id) > max_run_id_chars) {
    invalid(fmt::format("run_id: at most {} characters are allowed", max_run_id_chars));
  }
  if (auto context = json::optional_object(body, "run_context")) {
    out.run_context_json = json::serialize(*context);
    if (out.run_context_json->size() > 16 * 1024) invalid("run_context: at most 16KB is allowed");
  }
}

// Parses the body as an object and turns field errors into 422s.
template <class Fill>
auto parse_body(std::string_view text, Fill fill) {
  try {
    const auto body = json::parse_storable_object(text);
    auto request = fill(body);
    parse_run_fields(body, request);
    return request;
  } catch (const json::FieldError& e) {
    invalid(e.what());
  }
}

}  // namespace

OperationFields parse_operation_fields(std::string_view type, const boost::json::object& body,
                                       const std::string& prefix) {
  OperationFields out;
  out.type = std::string(type);
  if (type == "exec") {
    out.command = json::required_string(body, "command");
    if (out.command.empty()) invalid(prefix + "command: must not be empty");
    if (const auto chars = utf8::code_points(out.command); chars > max_command_chars) {
      invalid(fmt::format("{}command: at most {} characters are allowed, got {}", prefix, max_command_chars, chars));
    }
    out.working_directory = json::optional_string(body, "working_directory");
    if (out.working_directory && (out.working_directory->empty() || out.working_directory->size() > 4096)) {
      invalid(prefix + "working_directory: must be a non-empty path of at most 4096 bytes");
    }
    out.env = parse_env(body, "env", prefix + "env");
    out.timeout_seconds = parse_timeout(body, default_timeout_seconds, prefix);
  } else if (type == "deploy") {
    out.application_id = required_uuid(body, "application_id", prefix);
    out.commit_ref = json::optional_string(body, "commit_ref");
    if (out.commit_ref && !valid_git_ref(*out.commit_ref)) {
      invalid(prefix +
              "commit_ref: must be a branch, tag or commit SHA (no spaces, control characters or leading '-')");
    }
    out.env = parse_env(body, "env_overrides", prefix + "env_overrides");
    out.timeout_seconds = parse_timeout(body, default_timeout_seconds, prefix);
  } else if (type == "restart") {
    out.container_name = json::required_string(body, "container_name");
    if (!valid_container_name(*out.container_name)) {
      invalid(prefix + "container_name: must match [A-Za-z0-9][A-Za-z0-9_.-]* and be at most 255 characters");
    }
    out.timeout_seconds = parse_timeout(body, default_timeout_seconds, prefix);
  } else if (type == "reboot") {
    out.timeout_seconds = parse_timeout(body, default_reboot_timeout_seconds, prefix);
  } else if (type == "registry_login") {
    out.credential_id = required_uuid(body, "credential_id", prefix);
  } else if (type == "registry_logout") {
    out.registry_url = json::required_string(body, "registry_url");
    const auto& url = *out.registry_url;
    if (url.empty() || url.size() > 2048 || url.find_first_of(" \t\r\n") != std::string::npos || url.front() == '-') {
      invalid(prefix + "registry_url: must be a registry host or URL without spaces");
    }
  } else {
    invalid("type: must be one of exec, deploy, restart, reboot, registry_login, registry_logout");
  }
  return out;
}

namespace {
// A v1 body: the operation's fields plus the server it targets (deploy: its application's) and
// the CI run fields.
OperationRequest parse_v1_body(std::string_view type, std::string_view text) {
  return parse_body(text, [type](const boost::json::object& body) {
    OperationRequest request;
    if (type != "deploy") request.server_id = required_uuid(body, "server_id");
    static_cast<OperationFields&>(request) = parse_operation_fields(type, body, "");
    return request;
  });
}
}  // namespace

ExecRequest parse_exec_request(std::string_view body) { return parse_v1_body("exec", body); }
DeployRequest parse_deploy_request(std::string_view body) { return parse_v1_body("deploy", body); }
RestartRequest parse_restart_request(std::string_view body) { return parse_v1_body("restart", body); }
RebootRequest parse_reboot_request(std::string_view body) { return parse_v1_body("reboot", body); }
RegistryLoginRequest parse_registry_login_request(std::string_view body) { return parse_v1_body("registry_login", body); }
RegistryLogoutRequest parse_registry_logout_request(std::string_view body) {
  return parse_v1_body("registry_logout", body);
}

}  // namespace tether::api::v1
