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

std::map<std::string, std::string> parse_env(const boost::json::object& body, std::string_view field) {
  std::map<std::string, std::string> env;
  auto object = json::optional_object(body, field);
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

std::string required_uuid(const boost::json::object& body, std::string_view field) {
  auto parsed = ids::parse_uuid(json::required_string(body, field));
  if (!parsed) invalid(fmt::format("{}: must be a UUID", field));
  return *parsed;
}

int parse_timeout(const boost::json::object& body, int fallback) {
  auto timeout = json::optional_int(body, "timeout_seconds");
  if (!timeout) return fallback;
  if (*timeout < min_timeout_seconds || *timeout > max_timeout_seconds) {
    invalid(fmt::format("timeout_seconds: must be from {} to {}, got {}", min_timeout_seconds, max_timeout_seconds,
                        *timeout));
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

bool valid_container_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

bool valid_git_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 255 || ref.front() == '-') return false;
  for (unsigned char c : ref) {
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' ||
        c == '\\') {
      return false;
    }
  }
  return ref.find("..") == std::string_view::npos;
}

ExecRequest parse_exec_request(std::string_view text) {
  return parse_body(text, [](const boost::json::object& body) {
    ExecRequest request;
    request.server_id = required_uuid(body, "server_id");
    request.command = json::required_string(body, "command");
    if (request.command.empty()) invalid("command: must not be empty");
    if (const auto chars = utf8::code_points(request.command); chars > max_command_chars) {
      invalid(fmt::format("command: at most {} characters are allowed, got {}", max_command_chars, chars));
    }
    request.working_directory = json::optional_string(body, "working_directory");
    if (request.working_directory &&
        (request.working_directory->empty() || request.working_directory->size() > 4096)) {
      invalid("working_directory: must be a non-empty path of at most 4096 bytes");
    }
    request.env = parse_env(body, "env");
    request.timeout_seconds = parse_timeout(body, default_timeout_seconds);
    return request;
  });
}

DeployRequest parse_deploy_request(std::string_view text) {
  return parse_body(text, [](const boost::json::object& body) {
    DeployRequest request;
    request.application_id = required_uuid(body, "application_id");
    request.commit_ref = json::optional_string(body, "commit_ref");
    if (request.commit_ref && !valid_git_ref(*request.commit_ref)) {
      invalid("commit_ref: must be a branch, tag or commit SHA (no spaces, control characters or leading '-')");
    }
    request.env_overrides = parse_env(body, "env_overrides");
    request.timeout_seconds = parse_timeout(body, default_timeout_seconds);
    return request;
  });
}

RestartRequest parse_restart_request(std::string_view text) {
  return parse_body(text, [](const boost::json::object& body) {
    RestartRequest request;
    request.server_id = required_uuid(body, "server_id");
    request.container_name = json::required_string(body, "container_name");
    if (!valid_container_name(request.container_name)) {
      invalid("container_name: must match [A-Za-z0-9][A-Za-z0-9_.-]* and be at most 255 characters");
    }
    request.timeout_seconds = parse_timeout(body, default_timeout_seconds);
    return request;
  });
}

RebootRequest parse_reboot_request(std::string_view text) {
  return parse_body(text, [](const boost::json::object& body) {
    RebootRequest request;
    request.server_id = required_uuid(body, "server_id");
    request.timeout_seconds = parse_timeout(body, default_reboot_timeout_seconds);
    return request;
  });
}

RegistryLoginRequest parse_registry_login_request(std::string_view text) {
  return parse_body(text, [](const boost::json::object& body) {
    RegistryLoginRequest request;
    request.server_id = required_uuid(body, "server_id");
    request.credential_id = required_uuid(body, "credential_id");
    return request;
  });
}

RegistryLogoutRequest parse_registry_logout_request(std::string_view text) {
  return parse_body(text, [](const boost::json::object& body) {
    RegistryLogoutRequest request;
    request.server_id = required_uuid(body, "server_id");
    request.registry_url = json::required_string(body, "registry_url");
    if (request.registry_url.empty() || request.registry_url.size() > 2048 ||
        request.registry_url.find_first_of(" \t\r\n") != std::string::npos || request.registry_url.front() == '-') {
      invalid("registry_url: must be a registry host or URL without spaces");
    }
    return request;
  });
}

}  // namespace tether::api::v1
