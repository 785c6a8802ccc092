#pragma once
// What each operation type runs (PROTOCOL.md, "Operation types"): the checks a dispatch must pass
// before it is journaled, and the process an accepted operation becomes.
#include "agent/operation_record.hpp"
#include "agent/process_runner.hpp"
#include "proto/messages.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tether::agent {

struct CommandSettings {
  // `restart` and `registry_*` run this program: a name is looked up in PATH when the operation
  // starts (so a runtime installed after the agent started is found), a path is used as is.
  std::string container_runtime;
  std::string reboot_command;  // run with /bin/sh -c
};

// Why a dispatch cannot be run, or nullopt when it can. The text never contains the password.
std::optional<std::string> dispatch_problem(const proto::Dispatch& dispatch, const CommandSettings& settings);

// [A-Za-z0-9][A-Za-z0-9_.-]*, at most 255 characters (Docker's and Podman's rule).
bool is_valid_container_name(std::string_view name);

// The process of an accepted operation (without its env, timeout and grace, which the caller
// adds). `password` is the registry_login password, which exists only in memory. Returns a
// readable error when the operation's program cannot be found.
std::variant<ProcessSpec, std::string> operation_process(const OperationRecord& record, const CommandSettings& settings,
                                                         const std::optional<std::string>& password);

// The executable `name` resolves to: itself when it contains a '/', else the first executable
// regular file of that name in the ':'-separated `search_path`.
std::optional<std::string> find_program(const std::string& name, std::string_view search_path);

}  // namespace tether::agent
