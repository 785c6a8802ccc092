#pragma once
// The agent's settings. Precedence, highest first: command-line flag, TETHER_* environment
// variable, `--config FILE` (`key = value` lines whose keys are the flag names), built-in default.
#include "agent/controller_endpoint.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::agent {

inline constexpr std::string_view agent_version = "0.1.0";

struct AgentConfig {
  std::string controller_url;
  ControllerEndpoint endpoint;  // parsed from controller_url
  std::string token;  // secret: never logged, never written anywhere by the agent
  std::filesystem::path state_dir;
  std::optional<std::string> ca_file;
  std::string log_level = "info";
  int kill_grace_seconds = 5;
  std::uint64_t spool_limit_bytes = 64ull * 1024 * 1024;
  std::string boot_id_file = "/proc/sys/kernel/random/boot_id";
  std::string container_runtime = "docker";  // a name looked up in PATH, or a path
  std::string reboot_command = "systemctl reboot";  // run with /bin/sh -c
};

struct CommandLine {
  bool show_help = false;
  bool show_version = false;
  AgentConfig config;  // filled only when neither --help nor --version was given
};

// Throws std::invalid_argument with a message meant for the operator (never containing the token).
CommandLine parse_command_line(int argc, const char* const* argv);

// `key = value` lines; blank lines and lines starting with '#' are skipped; a value may be wrapped
// in double quotes. Unknown keys and malformed lines throw std::invalid_argument naming the line.
std::map<std::string, std::string> parse_config_file_text(std::string_view text, std::string_view file_name);

std::string usage_text();

// Once the command line is parsed: overwrites the token's value where other processes could read
// it from the agent (its argv, which /proc/<pid>/cmdline shows to every user, and its environment
// block, /proc/<pid>/environ) and removes TETHER_TOKEN from the environment, so that no process
// the agent starts inherits it, whichever way it is started. (The config file is read and closed
// during parsing: no descriptor of it is left to inherit.)
void hide_token(int argc, char** argv);

}  // namespace tether::agent
