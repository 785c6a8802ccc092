// A command that outlives timeout_seconds is killed with its whole process group, and the exec
// call that started it is answered with its `timeout` result: the sync wait covers the timeout
// plus the agent's kill grace period.
#include "tests/e2e/e2e_checks.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/process_guard.hpp"
#include "tests/support/wait.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <future>

using namespace tether;
using namespace tether::e2e;
using testing::exec;

namespace {

bool process_group_gone(pid_t group) { return ::kill(-group, 0) == -1 && errno == ESRCH; }
bool process_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

}  // namespace

TEST_CASE("a command that outlives its timeout ends as timeout and its process group is gone",
          "[e2e][exec][timeout]") {
  // The backgrounded `sleep` is orphaned when its shell dies. Becoming a subreaper makes it our
  // child then (unless the agent reaps it first), so it can be reaped here and vanish for good
  // instead of lingering as a zombie under an init that does not reap.
  // The process guard starts first, so that it is not re-parented to this test.
  testing::start_process_guard();
  REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);

  testing::TestDatabase database;
  testing::TetherStack stack(database);
  const auto key = stack.create_automation_key();
  const auto pid_file = stack.dir() / "sleep.pid";

  auto request = exec_body(stack.server_id(), "sleep 60 & echo $! > " + pid_file.string() + "; wait");
  request["timeout_seconds"] = 1;
  auto pending = std::async(std::launch::async, [&] {
    auto client = stack.client();
    return exec(client, key.key, request);
  });

  // While the command runs: find the sleep and the process group it shares with its shell.
  pid_t sleep_pid = 0;
  REQUIRE(testing::wait_until(
      [&] {
        const std::string text = testing::read_file(pid_file);
        if (text.empty() || text.back() != '\n') return false;
        sleep_pid = std::stoi(text);
        return true;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(5)));
  const pid_t group = ::getpgid(sleep_pid);
  REQUIRE(group > 0);
  CHECK(group != ::getpgrp());                                   // not the test's group
  CHECK(group != ::getpgid(stack.agent().process->pid()));      // nor the agent's: its own

  // The sync wait is min(timeout_seconds + 7 s, cap): the timeout result comes in this answer.
  const auto response = pending.get();
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "timeout");

  const bool gone = testing::wait_until(
      [&] {
        ::waitpid(sleep_pid, nullptr, WNOHANG);  // reap it if it was re-parented to us
        return process_gone(sleep_pid) && process_group_gone(group);
      },
      std::chrono::seconds(5));
  CHECK(gone);
  CHECK(process_gone(sleep_pid));
  CHECK(process_group_gone(group));
}

TEST_CASE("a command that ignores SIGTERM is killed after the grace period and still answered with its timeout "
          "result in the same response",
          "[e2e][exec][timeout]") {
  // timeout_seconds 2 + the agent's default kill grace (5 s) ends it about 7 s after it started;
  // the sync wait is min(2 + 7 s, --sync-wait-cap-seconds), so the same answer carries the result.
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 60;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();
  auto client = stack.client();

  auto request = exec_body(stack.server_id(), "trap '' TERM; echo begun; while :; do sleep 0.1; done");
  request["timeout_seconds"] = 2;
  const auto response = exec(client, key.key, request);
  INFO(describe(response));
  REQUIRE(response.status == 200);
  const auto body = json_object(response);
  CHECK(string_field(body, "status") == "timeout");
  CHECK(string_field(body, "stdout") == "begun\n");
  CHECK(int_field(body, "duration_ms") >= 2000);
  CHECK_THAT(string_field(body, "error"), Catch::Contains("timeout"));
}
