// The real tether-agent binary against a scripted controller on 127.0.0.1.
#include "fake_controller.hpp"
#include "orphan_reaping.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

#include <boost/asio/ssl/context.hpp>
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace tether::agent::testing;
namespace proto = tether::proto;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using tether::testing::ChildProcess;
using tether::testing::TempDir;

namespace {

const std::string agent_token = "tat_" + std::string(64, 'a');
const std::string op_id = "99999999-9999-4999-8999-999999999999";
const std::string test_boot_id = "0d7e4f3a-1111-4222-8333-444455556666";
constexpr auto step = 5s;  // bound for each single exchange with the agent

// The three ways an agent can be given its token.
enum class TokenFrom { flag, environment, config_file };

class AgentProcess {
 public:
  // The boot id file is written only when missing, so that a test can change the boot id
  // between two agent processes.
  AgentProcess(const TempDir& dir, const std::string& controller_url, std::vector<std::string> extra = {},
               std::map<std::string, std::string> env = {}, TokenFrom token_from = TokenFrom::flag) {
    if (!fs::exists(dir / "boot_id")) std::ofstream(dir / "boot_id") << test_boot_id << "\n";
    tether::testing::ProcessSpec spec;
    spec.env = std::move(env);
    spec.argv = {TETHER_AGENT_BINARY, "--controller",   controller_url,
                 "--state-dir",       (dir / "state").string(), "--boot-id-file",
                 (dir / "boot_id").string(), "--kill-grace-seconds", "1",
                 "--log-level",       "debug"};
    switch (token_from) {
      case TokenFrom::flag:
        spec.argv.insert(spec.argv.end(), {"--token", agent_token});
        break;
      case TokenFrom::environment:
        spec.env["TETHER_TOKEN"] = agent_token;
        break;
      case TokenFrom::config_file:
        std::ofstream(dir / "agent.conf") << "token = " << agent_token << "\n";
        spec.argv.insert(spec.argv.end(), {"--config", (dir / "agent.conf").string()});
        break;
    }
    spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
    spec.drop_env_prefixes = {"TETHER_"};
    spec.stdout_path = dir / "agent.log";
    process_ = std::make_unique<ChildProcess>(spec);
  }
  ChildProcess& process() { return *process_; }
  std::string log() const { return process_->log(); }

 private:
  std::unique_ptr<ChildProcess> process_;
};

proto::Dispatch exec(std::string command, std::map<std::string, std::string> env = {}) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.command = std::move(command);
  dispatch.env = std::move(env);
  dispatch.timeout_seconds = 30;
  return dispatch;
}

std::vector<std::string> operation_files(const TempDir& dir) {
  std::vector<std::string> names;
  if (!fs::exists(dir / "state" / "operations")) return names;
  for (const auto& entry : fs::directory_iterator(dir / "state" / "operations")) names.push_back(entry.path().filename());
  return names;
}

// Output frames of `frames`, concatenated per stream, with their sequence numbers.
struct CollectedOutput {
  std::string out, err;
  std::vector<std::uint64_t> seqs;
};
CollectedOutput collect(const std::vector<AgentFrame>& frames) {
  CollectedOutput collected;
  for (const auto& frame : frames) {
    if (!frame.is_output()) continue;
    const auto view = frame.output();
    CHECK(view.operation_id == op_id);
    (view.stream == proto::Stream::stdout_stream ? collected.out : collected.err).append(view.payload);
    collected.seqs.push_back(view.seq);
  }
  return collected;
}

std::string generate_certificates(const TempDir& dir) {
  const auto run = [](std::vector<std::string> argv) {
    const auto result = tether::testing::run_command(argv, 20s);
    if (!result.succeeded()) FAIL("openssl failed: " << result.err);
  };
  const auto p = [&](const char* name) { return (dir / name).string(); };
  std::ofstream(dir / "san.cnf") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n";
  for (const char* ca : {"ca", "other-ca"}) {
    run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         p(ca) + ".key", "-out", p(ca) + ".pem", "-days", "1", "-subj", std::string("/CN=tether test ") + ca});
  }
  run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       p("server.key"), "-out", p("server.csr"), "-subj", "/CN=127.0.0.1"});
  run({"openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
       "-out", p("server.pem"), "-days", "1", "-extfile", p("san.cnf")});
  return p("ca.pem");
}

}  // namespace

TEST_CASE("agent dials with its bearer token, says hello, streams a command's output and forgets it once acknowledged",
          "[agent][process]") {
  TempDir dir("agent-process");
  FakeController controller;
  AgentProcess agent(dir, controller.url());

  auto connection = controller.accept(step);
  CHECK(connection->request().target == "/api/agent/ws");
  CHECK(connection->request().authorization == "Bearer " + agent_token);
  CHECK(connection->request().user_agent == "tether-agent/0.1.0");

  const auto hello = connection->read_until<proto::Hello>(step);
  CHECK(hello.protocol_version == 1);
  CHECK(hello.agent_version == "0.1.0");
  CHECK(hello.boot_id == test_boot_id);
  CHECK(hello.capabilities ==
        std::vector<std::string>{"exec", "deploy", "restart", "reboot", "registry_login", "registry_logout"});
  CHECK_FALSE(hello.hostname.empty());
  CHECK_FALSE(hello.kernel.empty());
  CHECK_FALSE(hello.arch.empty());
  CHECK(hello.operations.empty());

  connection->send(proto::Welcome{"server-1", 1, {}});
  const std::string secret = "env-value-kept-out-of-logs-41d9";
  connection->send(exec("echo hi; echo err >&2; test -n \"$DEPLOY_SECRET\" && echo has-secret; exit 3",
                        {{"DEPLOY_SECRET", secret}}));

  std::vector<AgentFrame> frames;
  connection->read_until<proto::Accepted>(step, &frames);
  connection->read_until<proto::Started>(step, &frames);
  const auto finished = connection->read_until<proto::Finished>(step, &frames);
  const auto output = collect(frames);
  CHECK(output.out == "hi\nhas-secret\n");
  CHECK(output.err == "err\n");
  REQUIRE_FALSE(output.seqs.empty());
  for (std::size_t i = 0; i < output.seqs.size(); ++i) CHECK(output.seqs[i] == i + 1);
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 3);
  CHECK(finished.last_seq == output.seqs.size());

  // Heartbeats come at the interval the welcome gave (1 s).
  connection->read_until<proto::Heartbeat>(3s);

  connection->send(proto::Ack{op_id, finished.last_seq});
  connection->send(proto::FinishedAck{op_id});
  CHECK(tether::testing::wait_until([&] { return operation_files(dir).empty(); }, step));

  agent.process().kill(SIGTERM);
  const auto exit = agent.process().wait_for_exit(step);
  REQUIRE(exit.has_value());
  CHECK(exit->code == 0);
  const auto log = agent.log();
  CHECK(log.find("event=operation_finished") != std::string::npos);
  CHECK(log.find(agent_token) == std::string::npos);
  CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("the agent's token reaches no command, whether it came from a flag, the environment or the config file",
          "[agent][process][secrets]") {
  const auto token_from = GENERATE(TokenFrom::flag, TokenFrom::environment, TokenFrom::config_file);
  CAPTURE(static_cast<int>(token_from));
  TempDir dir("agent-process");
  FakeController controller;
  AgentProcess agent(dir, controller.url(), {}, {}, token_from);

  auto connection = controller.accept(step);
  CHECK(connection->request().authorization == "Bearer " + agent_token);  // the agent itself has it
  connection->read_until<proto::Hello>(step);
  connection->send(proto::Welcome{"server-1", 10, {}});
  // The command's environment and descriptors, and what it can read of the agent's own (its
  // parent's) environment and command line: the agent runs commands as its own user.
  connection->send(exec(
      "env; echo '--- fds'; ls -l /proc/self/fd/ /proc/$$/fd/; echo '--- agent environment';"
      " tr '\\0' '\\n' < /proc/$PPID/environ; echo '--- agent argv'; tr '\\0' ' ' < /proc/$PPID/cmdline; echo;"
      " echo parent=$PPID"));
  std::vector<AgentFrame> frames;
  const auto finished = connection->read_until<proto::Finished>(step, &frames);
  const auto output = collect(frames);
  INFO(output.out << output.err);
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 0);
  // The command did print what it was asked to (the agent is its parent).
  CHECK_THAT(output.out, Catch::Contains("TETHER_OPERATION_ID=" + op_id));
  CHECK_THAT(output.out, Catch::Contains("parent=" + std::to_string(agent.process().pid())));
  CHECK_THAT(output.out, Catch::Contains("--state-dir"));
  CHECK(output.out.find(agent_token) == std::string::npos);
  CHECK(output.out.find(agent_token.substr(0, 12)) == std::string::npos);
  // No descriptor of the config file either (its name may appear in the agent's argv).
  const auto fds_begin = output.out.find("--- fds");
  const auto fds = output.out.substr(fds_begin, output.out.find("--- agent environment") - fds_begin);
  CHECK_THAT(fds, Catch::Contains("/proc/self/fd/"));
  CHECK(fds.find("agent.conf") == std::string::npos);

  agent.process().kill(SIGTERM);
  CHECK(agent.process().wait_for_exit(step).has_value());
}

TEST_CASE("agent retries after a 401 on upgrade and connects once the controller accepts it", "[agent][process]") {
  TempDir dir("agent-process");
  FakeController controller;
  AgentProcess agent(dir, controller.url());

  const auto refused = controller.refuse(401, step);
  CHECK(refused.authorization == "Bearer " + agent_token);
  auto connection = controller.accept(step);
  connection->read_until<proto::Hello>(step);
  CHECK(agent.process().running());
  CHECK(agent.log().find("event=connect_rejected http_status=401") != std::string::npos);
  CHECK(agent.log().find(agent_token) == std::string::npos);
}

TEST_CASE("agent never runs a redelivered dispatch twice, also across its own restart", "[agent][process]") {
  become_subreaper();  // the agent's orphaned command is re-parented here when the agent is killed
  TempDir dir("agent-process");
  FakeController controller;
  const auto pid_file = dir / "shell.pid";
  const auto runs = dir / "runs";
  const auto dispatch = exec("echo run >> '" + runs.string() + "'; echo $$ > '" + pid_file.string() + "'; sleep 100");

  pid_t orphan_shell = -1;
  {
    AgentProcess agent(dir, controller.url());
    auto connection = controller.accept(step);
    connection->read_until<proto::Hello>(step);
    connection->send(proto::Welcome{"server-1", 10, {}});
    connection->send(dispatch);
    connection->read_until<proto::Started>(step);
    connection->send(dispatch);  // redelivered while running: answered, not started again
    connection->read_until<proto::Accepted>(step);
    orphan_shell = read_pid_file(pid_file, step);
    agent.process().kill_and_reap();  // the agent dies; its command lives on
  }
  REQUIRE(::kill(orphan_shell, 0) == 0);

  AgentProcess restarted(dir, controller.url());
  auto connection = controller.accept(step);
  const auto hello = connection->read_until<proto::Hello>(step);
  REQUIRE(hello.operations.size() == 1);
  CHECK(hello.operations[0].operation_id == op_id);
  CHECK(hello.operations[0].finished);

  // The orphaned command was killed by the restarted agent.
  const auto status = reap(orphan_shell, step);
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));

  connection->send(proto::Welcome{"server-1", 10, {{op_id, 0, false}}});
  const auto finished = connection->read_until<proto::Finished>(step);
  CHECK(finished.status == "failed");
  CHECK(finished.error == std::optional<std::string>("agent restarted while the operation was running"));

  connection->send(dispatch);  // redelivered after the restart: reported, not run
  std::vector<AgentFrame> frames;
  const auto again = connection->read_until<proto::Finished>(step, &frames);
  CHECK(again.status == "failed");
  for (const auto& frame : frames) {
    REQUIRE(frame.message.has_value());
    CHECK_FALSE(std::holds_alternative<proto::Started>(*frame.message));
  }
  CHECK(tether::testing::read_file(runs) == "run\n");
}

TEST_CASE("after a dropped connection the agent resends only the output the controller lacks", "[agent][process]") {
  TempDir dir("agent-process");
  FakeController controller;
  AgentProcess agent(dir, controller.url());
  const auto gate = dir / "gate";

  auto connection = controller.accept(step);
  connection->read_until<proto::Hello>(step);
  connection->send(proto::Welcome{"server-1", 10, {}});
  connection->send(exec("echo first; while [ ! -e '" + gate.string() + "' ]; do sleep 0.02; done; echo second"));
  std::vector<AgentFrame> frames;
  while (collect(frames).out != "first\n") frames.push_back(connection->read(step));
  connection->drop();
  std::ofstream(gate) << "go";

  connection = controller.accept(step);
  const auto hello = connection->read_until<proto::Hello>(step);
  REQUIRE(hello.operations.size() == 1);
  CHECK(hello.operations[0].last_seq >= 1);

  // The controller stored chunk 1 before the drop: only what follows may come again.
  connection->send(proto::Welcome{"server-1", 10, {{op_id, 1, false}}});
  std::vector<AgentFrame> resent;
  const auto finished = connection->read_until<proto::Finished>(step, &resent);
  const auto output = collect(resent);
  CHECK(output.out == "second\n");
  CHECK(output.seqs == std::vector<std::uint64_t>{2});
  CHECK(finished.status == "completed");
  CHECK(finished.last_seq == 2);
}

TEST_CASE("agent verifies the controller's TLS certificate against --ca-file", "[agent][process]") {
  TempDir dir("agent-process");
  const auto ca_file = generate_certificates(dir);
  boost::asio::ssl::context tls(boost::asio::ssl::context::tls_server);
  tls.use_certificate_chain_file((dir / "server.pem").string());
  tls.use_private_key_file((dir / "server.key").string(), boost::asio::ssl::context::pem);
  FakeController controller(&tls);

  SECTION("a certificate signed by the given CA is accepted") {
    AgentProcess agent(dir, controller.url(), {"--ca-file", ca_file});
    auto connection = controller.accept(step);
    CHECK(connection->request().authorization == "Bearer " + agent_token);
    connection->read_until<proto::Hello>(step);
  }
  SECTION("a certificate from another CA is refused before the token is sent") {
    AgentProcess agent(dir, controller.url(), {"--ca-file", (dir / "other-ca.pem").string()});
    CHECK_THROWS_WITH(controller.accept(step), Catch::Contains("TLS handshake with the agent failed"));
    CHECK(tether::testing::wait_until([&] { return agent.log().find("certificate verify failed") != std::string::npos; },
                                      step));
  }
}

TEST_CASE("agent refuses bad settings with a clear message and a non-zero exit", "[agent][process]") {
  TempDir dir("agent-process");
  const auto result = tether::testing::run_command(
      {TETHER_AGENT_BINARY, "--controller", "http://127.0.0.1:1", "--state-dir", (dir / "s").string()}, 10s, {},
      {"TETHER_"});
  CHECK(result.status.code == 2);
  CHECK_THAT(result.err, Catch::Contains("missing --token"));

  const auto help = tether::testing::run_command({TETHER_AGENT_BINARY, "--help"}, 10s, {}, {"TETHER_"});
  CHECK(help.status.code == 0);
  CHECK_THAT(help.out, Catch::Contains("Usage: tether-agent"));
}

TEST_CASE("a second agent on the same state dir refuses to start", "[agent][process]") {
  TempDir dir("agent-process");
  FakeController controller;
  AgentProcess first(dir, controller.url());
  auto connection = controller.accept(step);
  connection->read_until<proto::Hello>(step);

  const auto second = tether::testing::run_command(
      {TETHER_AGENT_BINARY, "--controller", controller.url(), "--token", agent_token, "--state-dir",
       (dir / "state").string()},
      10s, {}, {"TETHER_"});
  CHECK(second.status.code == 1);
  CHECK_THAT(second.err, Catch::Contains("another tether-agent is already using state dir"));
}

namespace {

proto::Dispatch reboot_dispatch() {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.operation_type = "reboot";
  dispatch.timeout_seconds = 60;
  return dispatch;
}

// Sends a reboot whose command stands in for the machine going down: it may write a new boot id,
// then stops the agent with SIGTERM as systemd would. Returns every frame the agent sent after
// `started` until its connection closed.
std::vector<AgentFrame> reboot_and_stop(const TempDir& dir, FakeController& controller, const std::string& new_boot_id) {
  const auto pid_file = dir / "agent.pid";
  std::string command;
  if (!new_boot_id.empty()) command = "printf '%s\\n' '" + new_boot_id + "' > '" + (dir / "boot_id").string() + "'; ";
  command += "kill -TERM \"$(cat '" + pid_file.string() + "')\"";

  AgentProcess agent(dir, controller.url(), {"--reboot-command", command});
  std::ofstream(pid_file) << agent.process().pid() << "\n";
  auto connection = controller.accept(step);
  const auto hello = connection->read_until<proto::Hello>(step);
  CHECK(hello.boot_id == test_boot_id);
  connection->send(proto::Welcome{"server-1", 10, {}});
  connection->send(reboot_dispatch());
  connection->read_until<proto::Accepted>(step);
  connection->read_until<proto::Started>(step);

  std::vector<AgentFrame> after_start;
  try {
    for (;;) after_start.push_back(connection->read(step));
  } catch (const std::runtime_error&) {
    // The agent went away with its connection: what a reboot looks like from the controller.
  }
  const auto exit = agent.process().wait_for_exit(step);
  REQUIRE(exit.has_value());
  CHECK(exit->code == 0);
  CHECK(agent.log().find("event=signal_received signal=15") != std::string::npos);
  return after_start;
}

}  // namespace

TEST_CASE("a reboot completes when the agent starts again under a new boot id", "[agent][process][reboot]") {
  TempDir dir("agent-process");
  FakeController controller;
  const std::string new_boot_id = "5e6f7a8b-2222-4333-8444-555566667777";
  const auto before_restart = reboot_and_stop(dir, controller, new_boot_id);
  for (const auto& frame : before_restart) {
    REQUIRE(frame.message.has_value());
    CHECK_FALSE(std::holds_alternative<proto::Finished>(*frame.message));  // a successful reboot command says nothing
  }

  // The "rebooted" agent must not run the reboot command again: this one would fail loudly.
  AgentProcess restarted(dir, controller.url(), {"--reboot-command", "echo ran-again; exit 9"});
  auto connection = controller.accept(step);
  const auto hello = connection->read_until<proto::Hello>(step);
  CHECK(hello.boot_id == new_boot_id);
  REQUIRE(hello.operations.size() == 1);
  CHECK(hello.operations[0].operation_id == op_id);
  CHECK(hello.operations[0].finished);

  connection->send(proto::Welcome{"server-1", 10, {{op_id, 0, false}}});
  const auto finished = connection->read_until<proto::Finished>(step);
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 0);
  CHECK_FALSE(finished.error.has_value());
  connection->send(proto::FinishedAck{op_id});
  CHECK(tether::testing::wait_until([&] { return operation_files(dir).empty(); }, step));
  CHECK(restarted.log().find("ran-again") == std::string::npos);
}

TEST_CASE("a reboot fails when the agent starts again under the same boot id", "[agent][process][reboot]") {
  TempDir dir("agent-process");
  FakeController controller;
  reboot_and_stop(dir, controller, "");

  AgentProcess restarted(dir, controller.url());
  auto connection = controller.accept(step);
  const auto hello = connection->read_until<proto::Hello>(step);
  CHECK(hello.boot_id == test_boot_id);
  connection->send(proto::Welcome{"server-1", 10, {{op_id, 0, false}}});
  const auto finished = connection->read_until<proto::Finished>(step);
  CHECK(finished.status == "failed");
  CHECK(finished.error == std::optional<std::string>("the server did not reboot"));
}

TEST_CASE("registry login through the real agent: the runtime found in PATH gets the password on stdin, and no log "
          "line or state file holds it",
          "[agent][process][registry]") {
  TempDir dir("agent-process");
  TempDir runtime_dir("agent-runtime");
  const auto runtime = runtime_dir / "tether-test-runtime";
  std::ofstream(runtime) << "#!/bin/sh\n"
                         << "printf '%s\\n' \"$@\" > '" << (runtime_dir / "argv").string() << "'\n"
                         << "cat > '" << (runtime_dir / "stdin").string() << "'\n"
                         << "echo 'Login Succeeded'\n";
  fs::permissions(runtime, fs::perms::owner_all);
  const char* path = std::getenv("PATH");
  FakeController controller;
  AgentProcess agent(dir, controller.url(), {"--container-runtime", "tether-test-runtime"},
                     {{"PATH", runtime_dir.path().string() + ":" + (path ? path : "/usr/bin:/bin")}});

  auto connection = controller.accept(step);
  connection->read_until<proto::Hello>(step);
  connection->send(proto::Welcome{"server-1", 10, {}});
  const std::string password = "registry-password-9c41e7 with spaces";
  proto::Dispatch login;
  login.operation_id = op_id;
  login.operation_type = "registry_login";
  login.registry_url = "ghcr.io";
  login.username = "ci-bot";
  login.password = password;
  login.timeout_seconds = 30;
  connection->send(login);

  std::vector<AgentFrame> frames;
  const auto finished = connection->read_until<proto::Finished>(step, &frames);
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 0);
  CHECK(collect(frames).out == "Login Succeeded\n");
  CHECK(tether::testing::read_file(runtime_dir / "argv") == "login\nghcr.io\n-u\nci-bot\n--password-stdin\n");
  CHECK(tether::testing::read_file(runtime_dir / "stdin") == password);

  agent.process().kill(SIGTERM);
  REQUIRE(agent.process().wait_for_exit(step).has_value());
  CHECK(agent.log().find("event=operation_finished") != std::string::npos);
  CHECK(agent.log().find("registry-password") == std::string::npos);
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "state")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    INFO(entry.path());
    CHECK(tether::testing::read_file(entry.path()).find("registry-password") == std::string::npos);
  }
  CHECK(files >= 2);  // at least the journal record and the spool
}
