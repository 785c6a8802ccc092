// Issue 4, point 5: missed heartbeats mark a server `unreachable` within the configured window,
// and an agent that speaks again makes it `active`; both show in GET /api/servers/{id} and in the
// list. The controller runs with a 1 s heartbeat and a 3 s window so that the test is short.
#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/wait.hpp"

#include <signal.h>

#include <thread>

using namespace tether;
using namespace tether::reliability;

namespace {

testing::StackOptions fast_heartbeats() {
  testing::StackOptions options;
  options.controller_args = {"--heartbeat-interval-seconds", "1", "--unreachable-after-seconds", "3"};
  return options;
}

// Resumes a stopped agent even when an assertion ends the test early, so that the stack's
// teardown finds a process that can be stopped the ordinary way.
class ResumeOnExit {
 public:
  explicit ResumeOnExit(testing::ChildProcess& process) : process_(process) {}
  ~ResumeOnExit() { process_.kill(SIGCONT); }
  ResumeOnExit(const ResumeOnExit&) = delete;
  ResumeOnExit& operator=(const ResumeOnExit&) = delete;

 private:
  testing::ChildProcess& process_;
};

}  // namespace

TEST_CASE("a server whose agent stops answering turns unreachable, and active again when it resumes",
          "[e2e][reliability][health]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, fast_heartbeats());
  const auto server_id = stack.server_id();

  // Heartbeats keep a healthy agent active well past the window.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  CHECK(e2e::string_field(stack.get_server(server_id), "status") == "active");

  auto& agent = *stack.agent(0).process;
  ResumeOnExit resume(agent);
  // A frozen agent keeps its socket open but sends nothing: only the heartbeat window notices.
  agent.kill(SIGSTOP);
  stack.wait_for_server_status(server_id, "unreachable", std::chrono::seconds(30));
  CHECK(listed_status(stack, server_id) == "unreachable");

  agent.kill(SIGCONT);
  stack.wait_for_server_status(server_id, "active", std::chrono::seconds(60));
  CHECK(listed_status(stack, server_id) == "active");
  wait_until_connected(stack, 0, std::chrono::seconds(30));
}

TEST_CASE("a server whose agent was killed turns unreachable, and active again when the agent restarts",
          "[e2e][reliability][health]") {
  testing::TestDatabase database;
  testing::TetherStack stack(database, fast_heartbeats());
  const auto server_id = stack.server_id();

  stack.stop_agent(0, SIGKILL);
  stack.wait_for_server_status(server_id, "unreachable", std::chrono::seconds(30));
  CHECK(listed_status(stack, server_id) == "unreachable");
  CHECK(stack.get_server(server_id).at("connected") == false);

  stack.start_agent(0);
  stack.wait_for_server_status(server_id, "active", std::chrono::seconds(60));
  CHECK(listed_status(stack, server_id) == "active");
  CHECK(stack.get_server(server_id).at("connected") == true);
}
