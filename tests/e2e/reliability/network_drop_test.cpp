// Issue 4, points 1, 2 and 5 when only the network fails: the agent reaches its controller through
// a TcpProxy on 127.0.0.1, which resets, refuses or silently stalls that path while the controller
// and the agent both keep running. Output must still arrive complete, in order and once, a
// dispatch must still run once, and a silent path must show as `unreachable`, then `active`.
#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/net.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/tcp_proxy.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <sstream>
#include <thread>
#include <vector>

using namespace tether;
using namespace tether::reliability;
using namespace std::chrono_literals;
using testing::TcpProxy;

namespace {

testing::StackOptions capped_sync_wait() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  return options;
}

// A stack whose agents dial a proxy in front of the controller instead of the controller itself.
struct ProxiedStack {
  explicit ProxiedStack(testing::StackOptions options)
      : controller_port(testing::free_loopback_port()),
        proxy(controller_port),
        stack(database, through_proxy(std::move(options), controller_port, proxy.port())) {}

  static testing::StackOptions through_proxy(testing::StackOptions options, std::uint16_t controller,
                                             std::uint16_t proxy_port) {
    options.controller_port = controller;
    options.agent_controller_port = proxy_port;
    return options;
  }

  testing::TestDatabase database;
  std::uint16_t controller_port;
  TcpProxy proxy;
  testing::TetherStack stack;  // declared last: its agents and controller stop before the proxy
};

// Waits until the agent has come back through the proxy: a connection relayed after `relayed_before`
// and the controller holding the agent's socket again.
void wait_for_reconnect(ProxiedStack& fixture, std::uint64_t relayed_before, std::chrono::milliseconds timeout = 30s) {
  const bool relayed = testing::wait_until([&] { return fixture.proxy.relayed() > relayed_before; }, timeout);
  INFO("connections relayed: " << fixture.proxy.relayed() << " (before: " << relayed_before << ")\n"
                               << stack_logs(fixture.stack));
  REQUIRE(relayed);
  wait_until_connected(fixture.stack, 0, timeout);
}

std::string operation_status(testing::TetherStack& stack, const std::string& operation_id) {
  const auto response = stack.admin("GET", "/api/operations/" + operation_id);
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  return e2e::string_field(e2e::json_object(response), "status");
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::istringstream in(testing::read_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void check_completed_with_stdout(const boost::json::object& operation, const std::string& expected_stdout) {
  CHECK(e2e::string_field(operation, "status") == "completed");
  REQUIRE(operation.at("result").is_object());
  const auto& result = operation.at("result").as_object();
  CHECK(e2e::int_field(result, "exit_code") == 0);
  CHECK(e2e::string_field(result, "stdout") == expected_stdout);
  CHECK(e2e::string_field(result, "stderr") == "");
}

}  // namespace

TEST_CASE("output of a command survives a dropped agent connection with the controller up",
          "[e2e][reliability][network-drop]") {
  ProxiedStack fixture(capped_sync_wait());
  auto& stack = fixture.stack;
  auto& proxy = fixture.proxy;
  const auto key = stack.create_automation_key();
  const auto controller_pid = stack.controller().pid();
  const auto agent_pid = stack.agent(0).process->pid();
  // The agent's only way to the controller is the proxy.
  REQUIRE(proxy.relayed() == 1);
  REQUIRE(proxy.open() == 1);

  const auto operation_id =
      start_running_command(stack, key.key, "for i in $(seq 1 50); do echo $i; sleep 0.1; done");

  // A reset in the middle of the output: the agent reconnects at its first backoff step.
  REQUIRE(operation_status(stack, operation_id) == "running");
  auto relayed = proxy.relayed();
  proxy.cut();
  wait_for_reconnect(fixture, relayed);

  // A second reset, and the network stays down while the agent retries: it must back off and
  // retry until the path is back, spooling the output it cannot send.
  REQUIRE(operation_status(stack, operation_id) == "running");
  relayed = proxy.relayed();
  proxy.refuse(true);
  proxy.cut();
  const bool retried = testing::wait_until([&] { return proxy.refused() >= 2; }, 10s);
  proxy.refuse(false);
  {
    INFO("refused connections: " << proxy.refused() << "\n" << stack_logs(stack));
    REQUIRE(retried);
  }
  wait_for_reconnect(fixture, relayed);

  const auto operation = wait_until_ended(stack, operation_id, 60s);
  INFO(boost::json::serialize(operation) << "\n" << stack_logs(stack));
  check_completed_with_stdout(operation, numbered_lines(50));

  // Neither process was restarted: only the path between them failed.
  CHECK(stack.controller().running());
  CHECK(stack.controller().pid() == controller_pid);
  CHECK(stack.agent(0).process->running());
  CHECK(stack.agent(0).process->pid() == agent_pid);
  // The initial connection, one after each reset and the refused attempts.
  CHECK(proxy.relayed() >= 3);
  CHECK(proxy.accepted() == proxy.relayed() + proxy.refused());
  const auto server = stack.get_server(stack.server_id());
  CHECK(e2e::string_field(server, "status") == "active");
  CHECK(server.at("connected") == true);
}

TEST_CASE("a dispatch whose connection drops before it is acknowledged runs once", "[e2e][reliability][network-drop]") {
  ProxiedStack fixture(capped_sync_wait());
  auto& stack = fixture.stack;
  auto& proxy = fixture.proxy;
  const auto key = stack.create_automation_key();

  struct Drop {
    std::string name;
    TcpProxy::Tripwire action;
  };
  const std::vector<Drop> drops{
      // The agent journals and may start it, but its `accepted` never reaches the controller.
      {"the dispatch reached the agent, then the connection was reset", TcpProxy::Tripwire::deliver_then_cut},
      // The controller sent it, the agent never saw it: after the hello it must be redelivered.
      {"the connection was reset with the dispatch on its way", TcpProxy::Tripwire::cut_instead},
  };

  for (std::size_t i = 0; i < drops.size(); ++i) {
    const auto& drop = drops[i];
    const auto marker = stack.dir() / fmt::format("marker-{}", i);
    // The tag is in the dispatch frame (the command) and, once it ran, in the output.
    const auto tag = fmt::format("ran-after-network-drop-{}", i);
    const auto command =
        fmt::format("echo \"$TETHER_OPERATION_ID\" >> {}; sleep 0.5; echo {}", testing::shell_quote(marker.string()), tag);

    const auto relayed = proxy.relayed();
    const auto fired = proxy.tripwires_fired();
    proxy.cut_when(TcpProxy::Direction::to_client, tag, drop.action);
    // The exec request itself goes straight to the controller; only the agent's path breaks.
    auto client = stack.client();
    const auto response = testing::exec(client, key.key, e2e::exec_body(stack.server_id(), command));
    INFO(drop.name << ": " << testing::describe(response));
    REQUIRE(response.status == 200);
    const auto operation_id = e2e::string_field(e2e::json_object(response), "operation_id");
    CHECK(proxy.tripwires_fired() == fired + 1);
    wait_for_reconnect(fixture, relayed);

    const auto operation = wait_until_ended(stack, operation_id, 60s);
    INFO(drop.name << ": " << boost::json::serialize(operation) << "\n" << stack_logs(stack));
    check_completed_with_stdout(operation, tag + "\n");

    // Another hello on another connection must not run it again; a second run would have written
    // its marker line well within the wait.
    const auto relayed_again = proxy.relayed();
    proxy.cut();
    wait_for_reconnect(fixture, relayed_again);
    std::this_thread::sleep_for(1500ms);
    CHECK(lines_of(marker) == std::vector<std::string>{operation_id});
  }
}

TEST_CASE("a silent network path marks the server unreachable and the agent recovers",
          "[e2e][reliability][network-drop][health]") {
  auto options = capped_sync_wait();
  options.controller_args = {"--heartbeat-interval-seconds", "1", "--unreachable-after-seconds", "3"};
  ProxiedStack fixture(std::move(options));
  auto& stack = fixture.stack;
  auto& proxy = fixture.proxy;
  const auto key = stack.create_automation_key();
  const auto server_id = stack.server_id();

  // A command that outlasts the silence: what it prints meanwhile waits in the agent's spool.
  const auto operation_id =
      start_running_command(stack, key.key, "for i in $(seq 1 100); do echo $i; sleep 0.1; done");
  REQUIRE(listed_status(stack, server_id) == "active");

  // Nothing is reset: bytes stop crossing in both directions, heartbeats and pings included.
  const auto relayed = proxy.relayed();
  proxy.blackhole(true);
  const auto silent_since = std::chrono::steady_clock::now();
  stack.wait_for_server_status(server_id, "unreachable", 20s);
  const auto noticed_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - silent_since);
  CHECK(listed_status(stack, server_id) == "unreachable");
  // The operation is not given up while its server is merely unreachable.
  CHECK(operation_status(stack, operation_id) == "running");

  proxy.blackhole(false);
  stack.wait_for_server_status(server_id, "active", 30s);
  CHECK(listed_status(stack, server_id) == "active");
  wait_for_reconnect(fixture, relayed);

  const auto operation = wait_until_ended(stack, operation_id, 60s);
  INFO("unreachable noticed " << noticed_after.count() << " ms after the path went silent; connections relayed: "
                              << proxy.relayed() << "\n"
                              << boost::json::serialize(operation) << "\n"
                              << stack_logs(stack));
  check_completed_with_stdout(operation, numbered_lines(100));
  CHECK(stack.agent(0).process->running());
  CHECK(stack.get_server(server_id).at("connected") == true);
}

// Beast presets the handshake's response to 500 before reading it: an upgrade whose connection
// the network reset before any answer must not be logged as the controller answering HTTP 500,
// or an operator reading the log would look for a controller fault.
TEST_CASE("an upgrade cut off by the network is not logged as an answer of the controller",
          "[e2e][reliability][network-drop]") {
  ProxiedStack fixture(testing::StackOptions{});
  auto& proxy = fixture.proxy;

  // The agent's next upgrade request is lost with its connection; the attempt after it succeeds.
  proxy.cut_when(TcpProxy::Direction::to_target, "GET /api/agent/ws", TcpProxy::Tripwire::cut_instead);
  proxy.cut();
  const bool tripped = testing::wait_until([&] { return proxy.tripwires_fired() == 1; }, 10s);
  {
    INFO(stack_logs(fixture.stack));
    REQUIRE(tripped);
  }
  wait_for_reconnect(fixture, proxy.relayed());

  const auto log = fixture.stack.agent_log(0);
  INFO("agent log:\n" << log);
  CHECK(log.find("stage=upgrade") != std::string::npos);
  CHECK(log.find("controller answered HTTP") == std::string::npos);
}
