// The reboot operation: what the table does with the reboot command's outcome, and how start-up
// settles a journaled reboot by the boot id.
#include "agent/operation_table.hpp"

#include "common/time.hpp"
#include "operation_table_fixture.hpp"
#include "orphan_reaping.hpp"

#include <catch2/catch.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

using namespace tether::agent;
using namespace tether::agent::testing;

namespace {

OperationSettings reboot_settings(const std::string& reboot_command) {
  auto settings = Fixture::default_settings();
  settings.commands.reboot_command = reboot_command;
  return settings;
}

proto::Dispatch reboot(int timeout_seconds = 30) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.operation_type = "reboot";
  dispatch.timeout_seconds = timeout_seconds;
  return dispatch;
}

// A reboot journaled by a previous agent process.
OperationRecord journaled_reboot(const std::string& recorded_boot_id, std::chrono::seconds age, int timeout_seconds = 300) {
  OperationRecord record;
  record.id = op_id;
  record.type = "reboot";
  record.state = OperationState::running;
  record.timeout_seconds = timeout_seconds;
  record.accepted_at = tether::timeutil::format_utc(std::chrono::system_clock::now() - age);
  record.boot_id = recorded_boot_id;
  return record;
}

// Loads `record` into a fresh table (as a restarted agent on boot `current_boot_id` would) and
// lets the controller welcome it, so that a settled result is sent.
struct Restarted {
  Restarted(const OperationRecord& record, const std::string& current_boot_id) {
    Journal(dir.path()).save(record, Durability::synced);
    auto settings = reboot_settings("true");
    settings.boot_id = current_boot_id;
    table = std::make_unique<OperationTable>(io.get_executor(), journal, settings, outbound);
    table->recover();
    table->on_welcome(proto::Welcome{"server", 10, {{op_id, 0, false}}});
  }
  tether::testing::TempDir dir{"agent-reboot"};
  boost::asio::io_context io;
  Journal journal{dir.path()};
  RecordingOutbound outbound;
  std::unique_ptr<OperationTable> table;
};

pid_t spawn_in_own_group(const char* command) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  std::string sh = "/bin/sh", dash_c = "-c", text = command;
  char* argv[] = {sh.data(), dash_c.data(), text.data(), nullptr};
  REQUIRE(::posix_spawn(&pid, "/bin/sh", nullptr, &attributes, argv, environ) == 0);
  posix_spawnattr_destroy(&attributes);
  return pid;
}

}  // namespace

TEST_CASE("a reboot command that exits non-zero finishes the reboot as completed with that exit code",
          "[agent][reboot]") {
  Fixture f(reboot_settings("echo refusing; exit 3"));
  f.table.on_dispatch(reboot());
  REQUIRE(f.run_until_finished());
  const auto finished = *f.outbound.finished();
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 3);
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == "refusing\n");
  f.table.flush_journal();
  const auto record = decode_record(slurp(f.journal.record_path(op_id)));
  CHECK(record.boot_id == boot_id);
  CHECK(record.result->exit_code == 3);
}

TEST_CASE("after a successful reboot command the agent sends nothing more until the deadline, then timeout",
          "[agent][reboot]") {
  Fixture f(reboot_settings("echo rebooting"));
  f.table.on_dispatch(reboot(2));
  REQUIRE(f.run_until([&] { return f.outbound.payload(proto::Stream::stdout_stream) == "rebooting\n"; }));
  f.run_until([] { return false; }, 700ms);
  CHECK_FALSE(f.outbound.finished().has_value());
  const auto hello = f.table.hello_operations();
  REQUIRE(hello.size() == 1);
  CHECK_FALSE(hello[0].finished);
  f.table.flush_journal();
  CHECK(decode_record(slurp(f.journal.record_path(op_id))).state == OperationState::running);

  REQUIRE(f.run_until_finished(5s));
  const auto finished = *f.outbound.finished();
  CHECK(finished.status == "timeout");
  CHECK(finished.error == "the server did not reboot within 2 s");
  CHECK(finished.last_seq == 1);
}

TEST_CASE("what a successful reboot command left running lives on while the reboot is awaited, and ends with it",
          "[agent][reboot]") {
  become_subreaper();
  tether::testing::TempDir dir("agent-reboot");
  const auto pid_file = dir / "delayed-reboot.pid";
  // A reboot command that schedules the reboot in the background, as `shutdown -r +1` might.
  Fixture f(reboot_settings("sleep 100 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'; echo rebooting"));
  f.table.on_dispatch(reboot(2));
  REQUIRE(f.run_until([&] { return f.outbound.payload(proto::Stream::stdout_stream) == "rebooting\n"; }));
  f.run_until([] { return false; }, 700ms);
  const pid_t delayed = read_pid_file(pid_file, 1s);
  CHECK(::kill(delayed, 0) == 0);

  REQUIRE(f.run_until_finished(5s));
  CHECK(f.outbound.finished()->status == "timeout");
  const auto status = reap(delayed, 3s);
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));
}

TEST_CASE("a reboot command ended by a signal waits for the reboot like a successful one; cancel ends the wait",
          "[agent][reboot]") {
  // systemd stopping the agent's unit for the reboot signals the reboot command too.
  Fixture f(reboot_settings("kill -TERM $$"));
  f.table.on_dispatch(reboot());
  REQUIRE(f.run_until([&] { return !f.outbound.all<proto::Started>().empty(); }));
  f.run_until([] { return false; }, 700ms);
  CHECK_FALSE(f.outbound.finished().has_value());

  f.table.on_cancel(proto::Cancel{op_id});
  REQUIRE(f.run_until_finished(1s));
  CHECK(f.outbound.finished()->status == "canceled");
  CHECK(f.outbound.finished()->error == "operation canceled while waiting for the server to reboot");
}

TEST_CASE("start-up under a new boot id settles a journaled reboot as completed with exit code 0", "[agent][reboot]") {
  Restarted agent(journaled_reboot("boot-before-reboot", 40s), "boot-after-reboot");
  const auto finished = agent.outbound.finished();
  REQUIRE(finished.has_value());
  CHECK(finished->status == "completed");
  CHECK(finished->exit_code == 0);
  CHECK_FALSE(finished->error.has_value());
  CHECK(finished->duration_ms >= 40'000);
  const auto record = decode_record(slurp(agent.journal.record_path(op_id)));
  CHECK(record.state == OperationState::finished);
  CHECK(record.result->status == "completed");
}

TEST_CASE("start-up under the same boot id fails a journaled reboot whose command is gone", "[agent][reboot]") {
  auto record = journaled_reboot("same-boot", 5s);
  const pid_t gone = spawn_in_own_group("exit 0");
  const auto ticks = process_start_ticks(gone);
  REQUIRE(ticks.has_value());
  REQUIRE(::waitpid(gone, nullptr, 0) == gone);
  record.process = ProcessIdentity{gone, gone, *ticks};

  Restarted agent(record, "same-boot");
  const auto finished = agent.outbound.finished();
  REQUIRE(finished.has_value());
  CHECK(finished->status == "failed");
  CHECK_FALSE(finished->exit_code.has_value());
  CHECK(finished->error == "the server did not reboot");
}

TEST_CASE("start-up under the same boot id leaves a still-running reboot command alone until the deadline",
          "[agent][reboot]") {
  // The reboot was dispatched 28 s ago with a 30 s timeout: its deadline is 2 s away.
  auto record = journaled_reboot("same-boot", 28s, 30);
  const pid_t command = spawn_in_own_group("sleep 100");
  const auto ticks = process_start_ticks(command);
  REQUIRE(ticks.has_value());
  record.process = ProcessIdentity{command, command, *ticks};

  Restarted agent(record, "same-boot");
  CHECK_FALSE(agent.outbound.finished().has_value());
  const auto hello = agent.table->hello_operations();
  REQUIRE(hello.size() == 1);
  CHECK_FALSE(hello[0].finished);
  CHECK(::kill(command, 0) == 0);

  const auto deadline = std::chrono::steady_clock::now() + 8s;
  while (!agent.outbound.finished() && std::chrono::steady_clock::now() < deadline) agent.io.run_one_for(50ms);
  REQUIRE(agent.outbound.finished().has_value());
  CHECK(agent.outbound.finished()->status == "timeout");
  CHECK(agent.outbound.finished()->error == "the server did not reboot within 30 s");
  const auto status = reap(command, 3s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
}

TEST_CASE("start-up under the same boot id finds a reboot command by its cgroup and leaves it alone",
          "[agent][reboot][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  // Neither a recorded process nor TETHER_OPERATION_ID: only the operation's cgroup knows it.
  std::string error;
  const auto cgroup = test_cgroups()->create(op_id, error);
  REQUIRE(cgroup);
  const pid_t command = start_in_cgroup(*cgroup, "sleep 100");
  auto record = journaled_reboot("same-boot", 28s, 30);

  Restarted agent(record, "same-boot");
  CHECK_FALSE(agent.outbound.finished().has_value());
  CHECK(::kill(command, 0) == 0);
  CHECK(std::filesystem::exists(cgroup->path()));

  const auto deadline = std::chrono::steady_clock::now() + 8s;
  while (!agent.outbound.finished() && std::chrono::steady_clock::now() < deadline) agent.io.run_one_for(50ms);
  REQUIRE(agent.outbound.finished().has_value());
  CHECK(agent.outbound.finished()->status == "timeout");
  const auto status = reap(command, 3s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
  CHECK_FALSE(std::filesystem::exists(cgroup->path()));
}

TEST_CASE("start-up without a boot id cannot settle a reboot as completed", "[agent][reboot]") {
  Restarted agent(journaled_reboot("boot-before-reboot", 5s), "");
  REQUIRE(agent.outbound.finished().has_value());
  CHECK(agent.outbound.finished()->status == "failed");
  CHECK(agent.outbound.finished()->error == "cannot tell whether the server rebooted: the boot id is unknown");
}
