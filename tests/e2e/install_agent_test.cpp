// deploy/install-agent.sh, run with --root in a scratch directory: it takes the token on stdin
// (refusing it as an argument), installs the binary, the CA and the unit, writes agent.conf with
// mode 600, and the agent it installed connects to a real controller with that configuration.
#include "tests/e2e/e2e_checks.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <sys/stat.h>

#include <filesystem>

#ifndef TETHER_SOURCE_DIR
#error "TETHER_SOURCE_DIR must name the source tree"
#endif
#ifndef TETHER_AGENT_BINARY
#error "TETHER_AGENT_BINARY must name the tether-agent executable"
#endif

using namespace tether;
using namespace tether::e2e;
namespace fs = std::filesystem;

namespace {

const fs::path script = fs::path(TETHER_SOURCE_DIR) / "deploy" / "install-agent.sh";

// Runs the script with `token` written to its stdin; `arguments` follow the script's path.
testing::CommandResult install(const std::string& token, const std::vector<std::string>& arguments) {
  std::string command = "printf '%s\\n' \"$INSTALL_TOKEN\" | bash " + testing::shell_quote(script.string());
  for (const auto& argument : arguments) command += " " + testing::shell_quote(argument);
  return testing::run_command({"/bin/sh", "-c", command}, std::chrono::seconds(30), {{"INSTALL_TOKEN", token}},
                              {"TETHER_"});
}

unsigned mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

}  // namespace

TEST_CASE("install-agent.sh in a scratch root installs an agent that connects with the configuration it wrote",
          "[e2e][deploy-script]") {
  auto& stack = shared_stack([] {
    testing::StackOptions options;
    options.agents = 0;
    options.tls = true;
    return options;
  }());
  const auto server = stack.create_server("installed");
  const std::string server_id = string_field(server, "id");
  const std::string token = string_field(server, "agent_token");
  testing::TempDir root("tether-install-root");

  const auto result = install(token, {"--controller", stack.base_url(), "--ca-file", stack.ca_file().string(),
                                      "--binary", TETHER_AGENT_BINARY, "--root", root.path().string()});
  INFO(result.status.describe() << "\n" << result.out << result.err);
  REQUIRE(result.succeeded());
  CHECK(result.out.find("Installed into") != std::string::npos);
  CHECK(result.out.find(token) == std::string::npos);
  CHECK(result.err.find(token) == std::string::npos);

  const auto binary = root / "usr/local/bin/tether-agent";
  const auto conf = root / "etc/tether/agent.conf";
  const auto ca = root / "etc/tether/controller-ca.pem";
  const auto unit = root / "etc/systemd/system/tether-agent.service";
  CHECK(mode_of(binary) == 0755);
  CHECK(testing::read_file(binary) == testing::read_file(TETHER_AGENT_BINARY));
  CHECK(mode_of(conf) == 0600);
  CHECK(mode_of(ca) == 0644);
  CHECK(testing::read_file(ca) == testing::read_file(stack.ca_file()));
  CHECK(testing::read_file(unit) == testing::read_file(fs::path(TETHER_SOURCE_DIR) / "deploy/tether-agent.service"));
  const std::string conf_text = testing::read_file(conf);
  CHECK(conf_text.find("token = " + token + "\n") != std::string::npos);
  CHECK(conf_text.find("controller = " + stack.base_url() + "\n") != std::string::npos);
  CHECK(conf_text.find("ca-file = /etc/tether/controller-ca.pem\n") != std::string::npos);
  CHECK(conf_text.find("state-dir = /var/lib/tether-agent\n") != std::string::npos);

  // The installed binary with the installed settings, as the unit starts it. Only the paths that
  // point into the real / are moved into the scratch root, and the test's stand-ins replace the
  // container runtime and reboot command.
  const auto state_dir = root / "var/lib/tether-agent";
  fs::create_directories(state_dir);
  testing::ProcessSpec spec;
  spec.argv = {binary.string(),          "--config",         conf.string(), "--state-dir", state_dir.string(),
               "--ca-file",              ca.string(),        "--container-runtime", "false",
               "--reboot-command",       "exit 99"};
  spec.drop_env_prefixes = {"TETHER_"};
  spec.stdout_path = root / "agent.log";
  testing::ChildProcess agent(spec);
  const bool active = testing::wait_until(
      [&] { return string_field(stack.get_server(server_id), "status") == "active"; }, std::chrono::seconds(20));
  INFO("installed agent's log:\n" << agent.log());
  CHECK(active);
  CHECK(agent.running());
}

TEST_CASE("install-agent.sh refuses the token as an argument and a malformed token, writing nothing",
          "[e2e][deploy-script]") {
  testing::TempDir root("tether-install-root");
  const std::string token = "tat_" + std::string(64, 'a');
  const auto as_argument = install("", {"--controller", "https://tether.example.com:8443", "--binary",
                                        TETHER_AGENT_BINARY, "--root", root.path().string(), "--token", token});
  CHECK_FALSE(as_argument.succeeded());
  CHECK(as_argument.err.find("not accepted as an argument") != std::string::npos);

  const auto malformed = install("tat_not-hex", {"--controller", "https://tether.example.com:8443", "--binary",
                                                 TETHER_AGENT_BINARY, "--root", root.path().string()});
  CHECK_FALSE(malformed.succeeded());
  CHECK(malformed.err.find("tat_ followed by 64 hex digits") != std::string::npos);
  CHECK(fs::is_empty(root.path()));
}
