#include "agent/agent_config.hpp"

#include "common/config.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace tether::agent {
namespace {

const std::set<std::string> file_keys = {"controller",        "token",        "state-dir",
                                         "ca-file",           "log-level",    "kill-grace-seconds",
                                         "spool-limit-bytes", "boot-id-file", "container-runtime",
                                         "reboot-command"};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::map<std::string, std::string> read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("cannot read --config file '{}'", path));
  std::ostringstream content;
  content << in.rdbuf();
  return parse_config_file_text(content.str(), path);
}

long parse_int(const std::string& name, const std::string& value, long min, long max) {
  std::size_t used = 0;
  long parsed = 0;
  try {
    parsed = std::stol(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size() || parsed < min || parsed > max) {
    throw std::invalid_argument(
        fmt::format("--{} must be an integer from {} to {}, got '{}'", name, min, max, value));
  }
  return parsed;
}

}  // namespace

std::map<std::string, std::string> parse_config_file_text(std::string_view text, std::string_view file_name) {
  std::map<std::string, std::string> values;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;

    const auto line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      throw std::invalid_argument(fmt::format("{} line {}: expected 'key = value'", file_name, line_number));
    }
    const std::string key(trim(line.substr(0, eq)));
    auto value = trim(line.substr(eq + 1));
    if (!file_keys.count(key)) {
      std::string known;
      for (const auto& k : file_keys) known += (known.empty() ? "" : ", ") + k;
      throw std::invalid_argument(
          fmt::format("{} line {}: unknown key '{}' (known keys: {})", file_name, line_number, key, known));
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    values[key] = std::string(value);
  }
  return values;
}

std::string usage_text() {
  return fmt::format(
      "tether-agent {}: runs operations dispatched by a Tether controller\n"
      "\n"
      "Usage: tether-agent --controller URL --token TOKEN --state-dir DIR [options]\n"
      "\n"
      "  --controller URL           controller base URL, http://HOST:PORT or https://HOST:PORT\n"
      "  --token TOKEN              this server's agent token (tat_...)\n"
      "  --state-dir DIR            journal and output spool (created if missing; one agent per dir)\n"
      "  --ca-file FILE             CA certificate(s) to verify an https controller (default: system roots)\n"
      "  --log-level LEVEL          trace|debug|info|warn|error|off (default info)\n"
      "  --kill-grace-seconds N     SIGTERM to SIGKILL delay for timeouts and cancels (default 5)\n"
      "  --spool-limit-bytes N      unacknowledged output per operation before reading pauses (default 67108864)\n"
      "  --boot-id-file FILE        source of the boot id (default /proc/sys/kernel/random/boot_id)\n"
      "  --container-runtime PROG   runs restart and registry login/logout: a name looked up in PATH\n"
      "                             or a path (default docker; podman works the same way)\n"
      "  --reboot-command CMD       run with /bin/sh -c for a reboot operation (default 'systemctl reboot');\n"
      "                             the reboot completes when the agent starts again under a new boot id\n"
      "  --config FILE              'key = value' file with any of the options above (keys without dashes)\n"
      "  --version                  print the version and exit\n"
      "  --help                     print this text and exit\n"
      "\n"
      "Every option can also come from the environment as TETHER_<NAME> (e.g. TETHER_TOKEN).\n"
      "Precedence: flag, then environment, then config file.\n",
      agent_version);
}

void hide_token(int argc, char** argv) {
  const auto wipe = [](char* value) { std::memset(value, '*', std::strlen(value)); };
  const std::string flag = "--token";
  for (int i = 1; i < argc; ++i) {
    const std::string_view word(argv[i]);
    if (word == flag && i + 1 < argc) {
      wipe(argv[++i]);
    } else if (word.rfind(flag + "=", 0) == 0) {
      wipe(argv[i] + flag.size() + 1);
    }
  }
  const auto variable = config::Options::env_name("token");
  if (char* value = std::getenv(variable.c_str())) wipe(value);
  ::unsetenv(variable.c_str());
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  std::set<std::string> known = file_keys;
  known.insert("config");
  const config::Options options(argc, argv, known, {"help", "version"});

  CommandLine result;
  result.show_help = options.has_switch("help");
  result.show_version = options.has_switch("version");
  if (result.show_help || result.show_version) return result;
  if (!options.positional().empty()) {
    throw std::invalid_argument(fmt::format("unexpected argument '{}' (see --help)", options.positional().front()));
  }

  std::map<std::string, std::string> from_file;
  if (auto path = options.get("config")) from_file = read_config_file(*path);

  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    if (auto value = options.get(name)) return value;
    if (auto it = from_file.find(name); it != from_file.end() && !it->second.empty()) return it->second;
    return std::nullopt;
  };
  auto required = [&](const std::string& name) {
    auto value = lookup(name);
    if (!value) {
      throw std::invalid_argument(fmt::format("missing --{} (or {}, or '{}' in --config)", name,
                                              config::Options::env_name(name), name));
    }
    return *value;
  };

  AgentConfig& cfg = result.config;
  cfg.controller_url = required("controller");
  cfg.endpoint = parse_controller_url(cfg.controller_url);
  cfg.token = required("token");
  for (unsigned char c : cfg.token) {
    if (c <= 0x20 || c == 0x7f) throw std::invalid_argument("--token must not contain spaces or control characters");
  }
  cfg.state_dir = required("state-dir");
  cfg.ca_file = lookup("ca-file");
  cfg.log_level = lookup("log-level").value_or(cfg.log_level);
  if (auto value = lookup("kill-grace-seconds")) {
    cfg.kill_grace_seconds = static_cast<int>(parse_int("kill-grace-seconds", *value, 0, 3600));
  }
  if (auto value = lookup("spool-limit-bytes")) {
    cfg.spool_limit_bytes = static_cast<std::uint64_t>(parse_int("spool-limit-bytes", *value, 65536, 1L << 40));
  }
  cfg.boot_id_file = lookup("boot-id-file").value_or(cfg.boot_id_file);
  cfg.container_runtime = lookup("container-runtime").value_or(cfg.container_runtime);
  if (cfg.container_runtime.empty() || cfg.container_runtime.find('\0') != std::string::npos) {
    throw std::invalid_argument("--container-runtime must name a program");
  }
  cfg.reboot_command = lookup("reboot-command").value_or(cfg.reboot_command);
  if (cfg.reboot_command.empty()) throw std::invalid_argument("--reboot-command must not be empty");
  return result;
}

}  // namespace tether::agent
