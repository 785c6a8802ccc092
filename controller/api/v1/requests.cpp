#include "controller/api/v1/exec_request.hpp"

#include "common/ids.hpp"
#include "common/json_fields.hpp"
#include "controller/http/responses.hpp"

#include <fmt/format.h>

namespace tether::api::v1 {
namespace {

using http::ApiError;
using http::bhttp::status;

[[noreturn]] void invalid(const std::string& detail) { throw ApiError(status::unprocessable_entity, detail); }

std::size_t count_code_points(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::map<std::string, std::string> parse_env(const boost::json::object& body) {
  std::map<std::string, std::string> env;
  auto object = json::optional_object(body, "env");
  if (!object) return env;
  if (object->size() > max_env_keys) {
    invalid(fmt::format("env: at most {} keys are allowed, got {}", max_env_keys, object->size()));
  }
  std::size_t total = 0;
  for (const auto& item : *object) {
    const std::string key(item.key());
    if (!valid_env_name(key)) {
      invalid(fmt::format("env: '{}' is not a valid variable name (letters, digits and _, not starting with a digit)",
                          key.substr(0, 64)));
    }
    if (!item.value().is_string()) invalid(fmt::format("env.{}: value must be a string", key));
    const std::string value(item.value().as_string());
    if (value.find('\0') != std::string::npos) invalid(fmt::format("env.{}: value must not contain NUL", key));
    total += key.size() + value.size();
    env.emplace(key, value);
  }
  if (total > max_env_bytes) {
    invalid(fmt::format("env: total size {} bytes exceeds the limit of {} bytes (64KB)", total, max_env_bytes));
  }
  return env;
}

}  // namespace

ExecRequest parse_exec_request(std::string_view text) {
  try {
    const auto body = json::parse_object(text);
    ExecRequest request;
    const auto server_id = json::required_string(body, "server_id");
    auto parsed_id = ids::parse_uuid(server_id);
    if (!parsed_id) invalid("server_id: must be a UUID");
    request.server_id = *parsed_id;

    request.command = json::required_string(body, "command");
    if (request.command.empty()) invalid("command: must not be empty");
    if (const auto chars = count_code_points(request.command); chars > max_command_chars) {
      invalid(fmt::format("command: at most {} characters are allowed, got {}", max_command_chars, chars));
    }
    if (request.command.find('\0') != std::string::npos) invalid("command: must not contain NUL");

    request.working_directory = json::optional_string(body, "working_directory");
    if (request.working_directory) {
      if (request.working_directory->empty() || request.working_directory->size() > 4096 ||
          request.working_directory->find('\0') != std::string::npos) {
        invalid("working_directory: must be a non-empty path of at most 4096 bytes");
      }
    }
    request.env = parse_env(body);

    if (auto timeout = json::optional_int(body, "timeout_seconds")) {
      if (*timeout < min_timeout_seconds || *timeout > max_timeout_seconds) {
        invalid(fmt::format("timeout_seconds: must be from {} to {}, got {}", min_timeout_seconds,
                            max_timeout_seconds, *timeout));
      }
      request.timeout_seconds = static_cast<int>(*timeout);
    }
    request.run_id = json::optional_string(body, "run_id");
    if (request.run_id && request.run_id->size() > 200) invalid("run_id: at most 200 characters are allowed");
    if (auto context = json::optional_object(body, "run_context")) {
      request.run_context_json = json::serialize(*context);
      if (request.run_context_json->size() > 16 * 1024) invalid("run_context: at most 16KB is allowed");
    }
    return request;
  } catch (const json::FieldError& e) {
    invalid(e.what());
  }
}

}  // namespace tether::api::v1
