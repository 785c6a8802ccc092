#include "agent/operation_commands.hpp"

#include "agent/deploy_script.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdlib>

namespace tether::agent {

namespace {

constexpr std::string_view default_search_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::size_t max_container_name = 255;

bool has_control_characters(std::string_view text) {
  for (const unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Values that become separate argv words of the runtime: one starting with '-' would be read as
// an option, control characters have no business in a URL or a user name.
std::optional<std::string> argument_problem(std::string_view field, const std::optional<std::string>& value) {
  if (!value || value->empty()) return fmt::format("{} is empty", field);
  if (value->front() == '-') return fmt::format("{} {:?} must not start with '-'", field, *value);
  if (has_control_characters(*value)) return fmt::format("{} {:?} contains control characters", field, *value);
  return std::nullopt;
}

std::optional<std::string> shell_command_problem(const proto::Dispatch& dispatch) {
  if (dispatch.command.empty()) return std::string("command is empty");
  if (dispatch.command.find('\0') != std::string::npos) return std::string("command contains a NUL character");
  return std::nullopt;
}

std::optional<std::string> runtime_problem(const CommandSettings& settings) {
  if (settings.container_runtime.empty()) return std::string("this agent has no container runtime configured");
  return std::nullopt;
}

std::string supported_types() {
  std::string out;
  for (const char* type : proto::operation_types) out += (out.empty() ? "" : ", ") + std::string(type);
  return out;
}

std::optional<std::string> type_problem(const proto::Dispatch& dispatch, const CommandSettings& settings) {
  const auto& type = dispatch.operation_type;
  if (type == "exec") return shell_command_problem(dispatch);
  if (type == "deploy") {
    if (auto problem = commit_ref_problem(dispatch.commit_ref.value_or(""))) return problem;
    if (!dispatch.working_directory || dispatch.working_directory->empty()) {
      return std::string("working_directory is empty (deploy runs in a git checkout)");
    }
    return shell_command_problem(dispatch);
  }
  if (type == "restart") {
    if (auto problem = runtime_problem(settings)) return problem;
    if (!is_valid_container_name(dispatch.container_name.value_or(""))) {
      return fmt::format(
          "container_name {:?} is not a valid container name ([A-Za-z0-9][A-Za-z0-9_.-]*, at most {} characters)",
          dispatch.container_name.value_or(""), max_container_name);
    }
    return std::nullopt;
  }
  if (type == "reboot") {
    if (settings.reboot_command.empty()) return std::string("this agent has no reboot command configured");
    return std::nullopt;
  }
  if (type == "registry_login" || type == "registry_logout") {
    if (auto problem = runtime_problem(settings)) return problem;
    if (auto problem = argument_problem("registry_url", dispatch.registry_url)) return problem;
    if (type == "registry_logout") return std::nullopt;
    if (auto problem = argument_problem("username", dispatch.username)) return problem;
    // The password is never quoted back: only its shape is described.
    if (!dispatch.password || dispatch.password->empty()) return std::string("password is empty");
    if (dispatch.password->size() > max_stdin_size) {
      return fmt::format("password is longer than {} bytes", max_stdin_size);
    }
    return std::nullopt;
  }
  return fmt::format("unsupported operation type {:?} (this agent runs: {})", type, supported_types());
}

}  // namespace

bool is_valid_container_name(std::string_view name) {
  if (name.empty() || name.size() > max_container_name) return false;
  const auto alphanumeric = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alphanumeric(name.front())) return false;
  for (const char c : name) {
    if (!alphanumeric(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

std::optional<std::string> dispatch_problem(const proto::Dispatch& dispatch, const CommandSettings& settings) {
  if (auto problem = type_problem(dispatch, settings)) return problem;
  if (dispatch.working_directory && dispatch.working_directory->find('\0') != std::string::npos) {
    return std::string("working_directory contains a NUL character");
  }
  for (const auto& [key, value] : dispatch.env) {
    if (key.empty() || key.find('=') != std::string::npos || key.find('\0') != std::string::npos) {
      return fmt::format("env key '{}' is not a valid variable name", key);
    }
    if (value.find('\0') != std::string::npos) return fmt::format("env value of {} contains a NUL character", key);
  }
  return std::nullopt;
}

std::optional<std::string> find_program(const std::string& name, std::string_view search_path) {
  if (name.find('/') != std::string::npos) return name;
  while (true) {
    const auto end = search_path.find(':');
    auto directory = std::string(search_path.substr(0, end));
    if (directory.empty()) directory = ".";  // an empty PATH entry means the current directory
    const auto candidate = directory + "/" + name;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (end == std::string_view::npos) return std::nullopt;
    search_path.remove_prefix(end + 1);
  }
}

std::variant<ProcessSpec, std::string> operation_process(const OperationRecord& record, const CommandSettings& settings,
                                                         const std::optional<std::string>& password) {
  ProcessSpec spec;
  spec.working_directory = record.working_directory;
  const auto& type = record.type;
  if (type == "exec") {
    spec.command = record.command;
    return spec;
  }
  if (type == "deploy") {
    spec.argv = deploy_argv(record.commit_ref.value_or(""), record.command);
    spec.report_pipe = true;
    return spec;
  }
  if (type == "reboot") {
    spec.command = settings.reboot_command;
    return spec;
  }
  // The container runtime's operations: argv words, no shell, so no name or URL is ever parsed
  // as shell text.
  const char* path_variable = std::getenv("PATH");
  const auto runtime = find_program(settings.container_runtime, path_variable ? path_variable : default_search_path);
  if (!runtime) return fmt::format("container runtime '{}' was not found in PATH", settings.container_runtime);
  if (type == "restart") {
    spec.argv = {*runtime, "restart", record.container_name.value_or("")};
  } else if (type == "registry_login") {
    spec.argv = {*runtime, "login", record.registry_url.value_or(""), "-u", record.username.value_or(""),
                 "--password-stdin"};
    spec.stdin_data = password.value_or("");
  } else if (type == "registry_logout") {
    spec.argv = {*runtime, "logout", record.registry_url.value_or("")};
  } else {
    return fmt::format("unsupported operation type '{}'", type);
  }
  return spec;
}

}  // namespace tether::agent
