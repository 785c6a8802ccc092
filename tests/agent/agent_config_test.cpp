#include "agent/agent_config.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using tether::agent::parse_command_line;
using tether::agent::parse_config_file_text;

namespace {

// Clears every TETHER_* variable the agent reads, so the developer's shell cannot leak in.
struct CleanAgentEnvironment {
  CleanAgentEnvironment() { clear(); }
  ~CleanAgentEnvironment() { clear(); }
  static void clear() {
    for (const char* name : {"TETHER_CONTROLLER", "TETHER_TOKEN", "TETHER_STATE_DIR", "TETHER_CA_FILE",
                             "TETHER_LOG_LEVEL", "TETHER_KILL_GRACE_SECONDS", "TETHER_SPOOL_LIMIT_BYTES",
                             "TETHER_BOOT_ID_FILE", "TETHER_CONTAINER_RUNTIME", "TETHER_REBOOT_COMMAND",
                             "TETHER_CONFIG"}) {
      ::unsetenv(name);
    }
  }
};

tether::agent::CommandLine parse(std::vector<std::string> words) {
  words.insert(words.begin(), "tether-agent");
  std::vector<const char*> argv;
  for (const auto& word : words) argv.push_back(word.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> words) {
  try {
    parse(std::move(words));
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("agent flags give the controller endpoint, token, state dir and defaults", "[agent][config]") {
  CleanAgentEnvironment clean;
  const auto line = parse({"--controller", "https://c.example:8443", "--token", "tat_abc", "--state-dir", "/var/lib/t"});
  const auto& cfg = line.config;
  CHECK(cfg.endpoint.tls);
  CHECK(cfg.endpoint.port == "8443");
  CHECK(cfg.token == "tat_abc");
  CHECK(cfg.state_dir == "/var/lib/t");
  CHECK_FALSE(cfg.ca_file.has_value());
  CHECK(cfg.log_level == "info");
  CHECK(cfg.kill_grace_seconds == 5);
  CHECK(cfg.spool_limit_bytes == 67108864u);
  CHECK(cfg.boot_id_file == "/proc/sys/kernel/random/boot_id");
  CHECK(cfg.container_runtime == "docker");
  CHECK(cfg.reboot_command == "systemctl reboot");
}

TEST_CASE("agent container runtime and reboot command come from flag, environment or config file", "[agent][config]") {
  CleanAgentEnvironment clean;
  tether::testing::TempDir dir("agent-config");
  const auto file = dir / "agent.conf";
  std::ofstream(file) << "container-runtime = podman\n"
                         "reboot-command = \"shutdown -r now\"\n";
  const std::vector<std::string> base = {"--controller", "http://h:1", "--token", "t", "--state-dir", "/x"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), base.begin(), base.end());
    return parse(extra).config;
  };

  auto cfg = with({"--config", file.string()});
  CHECK(cfg.container_runtime == "podman");
  CHECK(cfg.reboot_command == "shutdown -r now");

  ::setenv("TETHER_CONTAINER_RUNTIME", "/usr/local/bin/docker", 1);
  ::setenv("TETHER_REBOOT_COMMAND", "reboot", 1);
  cfg = with({"--config", file.string()});
  CHECK(cfg.container_runtime == "/usr/local/bin/docker");
  CHECK(cfg.reboot_command == "reboot");

  cfg = with({"--container-runtime", "nerdctl", "--reboot-command", "echo flagged"});
  CHECK(cfg.container_runtime == "nerdctl");
  CHECK(cfg.reboot_command == "echo flagged");

  CHECK_THAT(error_of({"--controller", "http://h:1", "--token", "t", "--state-dir", "/x", "--reboot-command", ""}),
             Catch::Contains("--reboot-command must not be empty"));
  CHECK_THAT(error_of({"--controller", "http://h:1", "--token", "t", "--state-dir", "/x", "--container-runtime="}),
             Catch::Contains("--container-runtime must name a program"));
}

TEST_CASE("agent --help and --version need no other option", "[agent][config]") {
  CleanAgentEnvironment clean;
  CHECK(parse({"--help"}).show_help);
  CHECK(parse({"--version"}).show_version);
  CHECK(tether::agent::usage_text().find("--state-dir") != std::string::npos);
  CHECK(tether::agent::usage_text().find("--container-runtime PROG") != std::string::npos);
  CHECK(tether::agent::usage_text().find("--reboot-command CMD") != std::string::npos);
}

TEST_CASE("agent settings: flag beats environment beats config file", "[agent][config]") {
  CleanAgentEnvironment clean;
  tether::testing::TempDir dir("agent-config");
  const auto file = dir / "agent.conf";
  std::ofstream(file) << "# comment\n"
                         "controller = http://from-file:1\n"
                         "token = \"tat_from_file\"\n"
                         "state-dir = /from/file\n"
                         "kill-grace-seconds = 7\n"
                         "\n"
                         "log-level = debug\n";

  auto cfg = parse({"--config", file.string()}).config;
  CHECK(cfg.endpoint.host == "from-file");
  CHECK(cfg.token == "tat_from_file");
  CHECK(cfg.kill_grace_seconds == 7);
  CHECK(cfg.log_level == "debug");

  ::setenv("TETHER_STATE_DIR", "/from/env", 1);
  ::setenv("TETHER_KILL_GRACE_SECONDS", "9", 1);
  cfg = parse({"--config", file.string()}).config;
  CHECK(cfg.state_dir == "/from/env");
  CHECK(cfg.kill_grace_seconds == 9);

  cfg = parse({"--config", file.string(), "--kill-grace-seconds", "3", "--state-dir=/from/flag"}).config;
  CHECK(cfg.state_dir == "/from/flag");
  CHECK(cfg.kill_grace_seconds == 3);
  CHECK(cfg.token == "tat_from_file");
}

TEST_CASE("agent config file rejects unknown keys and malformed lines naming the line", "[agent][config]") {
  const auto unknown = [] {
    try {
      parse_config_file_text("controller = http://x\nstate_dir = /x\n", "agent.conf");
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string();
  }();
  CHECK(unknown.find("agent.conf line 2") != std::string::npos);
  CHECK(unknown.find("unknown key 'state_dir'") != std::string::npos);
  CHECK(unknown.find("state-dir") != std::string::npos);  // the list of known keys helps fix the typo

  CHECK_THROWS_WITH(parse_config_file_text("just words\n", "f"), Catch::Contains("f line 1: expected 'key = value'"));
  CHECK_THROWS_WITH(parse_config_file_text("config = other\n", "f"), Catch::Contains("unknown key 'config'"));
}

TEST_CASE("agent refuses missing or invalid settings with a clear message", "[agent][config]") {
  CleanAgentEnvironment clean;
  CHECK_THAT(error_of({"--token", "t", "--state-dir", "/x"}), Catch::Contains("missing --controller"));
  CHECK_THAT(error_of({"--controller", "http://h:1", "--state-dir", "/x"}), Catch::Contains("TETHER_TOKEN"));
  CHECK_THAT(error_of({"--controller", "http://h:1", "--token", "t"}), Catch::Contains("missing --state-dir"));
  CHECK_THAT(error_of({"--controller", "gopher://h", "--token", "t", "--state-dir", "/x"}),
             Catch::Contains("http:// or https://"));
  CHECK_THAT(error_of({"--controller", "http://h:1", "--token", "t", "--state-dir", "/x", "--kill-grace-seconds", "-1"}),
             Catch::Contains("--kill-grace-seconds must be an integer"));
  CHECK_THAT(error_of({"--controller", "http://h:1", "--token", "t", "--state-dir", "/x", "--bogus", "1"}),
             Catch::Contains("unknown option --bogus"));
  CHECK_THAT(error_of({"--controller", "http://h:1", "--token", "t", "--state-dir", "/x", "--config", "/nonexistent/a.conf"}),
             Catch::Contains("cannot read --config file '/nonexistent/a.conf'"));
}

TEST_CASE("agent config errors never echo the token", "[agent][config]") {
  CleanAgentEnvironment clean;
  const std::string secret = "tat_secret value";
  const auto error = error_of({"--controller", "http://h:1", "--token", secret, "--state-dir", "/x"});
  CHECK_THAT(error, Catch::Contains("--token must not contain spaces"));
  CHECK(error.find("secret") == std::string::npos);
}
