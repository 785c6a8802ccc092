// PROTOCOL.md's promises about who holds a server's connection and what a reconnecting agent's
// hello settles: a second connection of the same server replaces the first; an operation the
// hello does not list was lost by the agent, so one that was never accepted is delivered again
// and one that was accepted fails (the agent's journal was wiped). The first two are driven by a
// FakeAgent, which can do what a real agent never does on its own; the last by a real agent.
#include "tests/e2e/reliability/operations.hpp"
#include "tests/e2e/reliability/process_groups.hpp"

#include "tests/support/fake_agent.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <signal.h>

#include <filesystem>

using namespace tether;
using namespace tether::reliability;
using namespace std::chrono_literals;
using testing::FakeAgent;

namespace {

// A controller without agents, a server for a FakeAgent and a key, with a 1 s sync wait.
struct FakeAgentStack {
  testing::TestDatabase database;
  testing::TetherStack stack{database, options()};
  boost::json::object server = stack.create_server("fake");
  std::string server_id = e2e::string_field(server, "id");
  std::string token = e2e::string_field(server, "agent_token");
  testing::AutomationKey key = stack.create_automation_key();

  static testing::StackOptions options() {
    testing::StackOptions out;
    out.agents = 0;
    out.sync_wait_cap_seconds = 1;
    return out;
  }

  bool connected() {
    const auto view = stack.get_server(server_id);
    const auto* flag = view.if_contains("connected");
    return flag != nullptr && flag->is_bool() && flag->as_bool();
  }

  // POST /exec, answered "running" after the sync wait since the fake agent does not answer.
  std::string exec(const boost::json::object& body) {
    auto client = stack.client();
    const auto response = testing::exec(client, key.key, body);
    INFO(testing::describe(response));
    REQUIRE(response.status == 200);
    const auto answer = e2e::json_object(response);
    REQUIRE(e2e::string_field(answer, "status") == "running");
    return e2e::string_field(answer, "operation_id");
  }
};

// Runs a dispatched operation to its end the way an agent reports it.
void finish(FakeAgent& agent, const std::string& operation_id, int exit_code) {
  agent.send(proto::Accepted{operation_id});
  agent.send(proto::Started{operation_id});
  proto::Finished finished;
  finished.operation_id = operation_id;
  finished.status = "completed";
  finished.exit_code = exit_code;
  finished.duration_ms = 1;
  agent.send(finished);
}

}  // namespace

TEST_CASE("a second connection of the same server replaces the first: the older socket is closed and work goes "
          "to the newer",
          "[e2e][reliability][agent-link]") {
  FakeAgentStack fixture;
  FakeAgent first(fixture.stack.port(), fixture.token, testing::fake_hello());
  FakeAgent second(fixture.stack.port(), fixture.token, testing::fake_hello());
  CHECK(second.welcome().server_id == fixture.server_id);

  const auto closed = first.receive(10s);
  INFO(stack_logs(fixture.stack));
  CHECK(closed.outcome == FakeAgent::Outcome::closed);
  CHECK(fixture.connected());

  const auto operation_id = fixture.exec(e2e::exec_body(fixture.server_id, "echo to-the-newer"));
  const auto dispatch = second.receive_dispatch(20s);
  CHECK(dispatch.operation_id == operation_id);
  CHECK(dispatch.command == "echo to-the-newer");
  finish(second, operation_id, 7);
  const auto ended = wait_until_ended(fixture.stack, operation_id, 20s);
  CHECK(e2e::string_field(ended, "status") == "completed");
  CHECK(e2e::int_field(ended.at("result").as_object(), "exit_code") == 7);
}

TEST_CASE("a dispatch the agent never accepted is delivered again, secrets included, when it reconnects without it",
          "[e2e][reliability][agent-link]") {
  FakeAgentStack fixture;
  auto body = e2e::exec_body(fixture.server_id, "echo \"$GREETING\"");
  body["env"] = {{"GREETING", "held-in-memory"}};
  std::string operation_id;
  {
    FakeAgent unanswering(fixture.stack.port(), fixture.token, testing::fake_hello());
    operation_id = fixture.exec(body);
    CHECK(unanswering.receive_dispatch(20s).operation_id == operation_id);
    unanswering.drop();  // gone without a word: no accepted, no rejected
  }
  REQUIRE(testing::wait_until([&] { return !fixture.connected(); }, 20s));
  const auto waiting = fixture.stack.admin("GET", "/api/operations/" + operation_id);
  REQUIRE(waiting.status == 200);
  CHECK(e2e::string_field(e2e::json_object(waiting), "status") == "running");

  FakeAgent back(fixture.stack.port(), fixture.token, testing::fake_hello());
  const auto again = back.receive_dispatch(20s);
  CHECK(again.operation_id == operation_id);
  CHECK(again.command == "echo \"$GREETING\"");
  CHECK(again.env == std::map<std::string, std::string>{{"GREETING", "held-in-memory"}});
  finish(back, operation_id, 0);
  CHECK(e2e::string_field(wait_until_ended(fixture.stack, operation_id, 20s), "status") == "completed");
}

TEST_CASE("an operation whose agent lost its journal fails when the agent reconnects without it",
          "[e2e][reliability][agent-link]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();

  GroupCleanup cleanup;
  const auto pid_file = stack.dir() / "journal-sleep.pid";
  const auto operation_id =
      start_running_command(stack, key.key, fmt::format("echo $$ > {}; sleep 60", testing::shell_quote(pid_file.string())));
  const auto pgid = wait_for_pid_file(pid_file, 20s);
  REQUIRE(pgid);
  cleanup.watch(*pgid);

  // The machine loses the agent, its command and its state dir (a reinstall, a wiped disk).
  stack.stop_agent(0, SIGKILL);
  ::kill(-*pgid, SIGKILL);
  for (const auto& entry : std::filesystem::directory_iterator(stack.agent().state_dir)) {
    std::filesystem::remove_all(entry.path());
  }
  stack.start_agent(0);

  const auto ended = wait_until_ended(stack, operation_id, 30s);
  INFO(boost::json::serialize(ended) << "\n" << stack_logs(stack));
  CHECK(e2e::string_field(ended, "status") == "failed");
  CHECK_THAT(e2e::string_field(ended, "error"), Catch::Contains("lost its journal"));
}
