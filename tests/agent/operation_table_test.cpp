#include "agent/operation_table.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"
#include "operation_table_fixture.hpp"
#include "orphan_reaping.hpp"
#include "proto/output_frame.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

extern char** environ;

using namespace tether::agent;
using namespace tether::agent::testing;
namespace proto = tether::proto;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::size_t count_lines(const fs::path& path) {
  const auto text = slurp(path);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("dispatch is journaled before accepted, then started, output in sequence, finished with last_seq",
          "[agent][operations]") {
  Fixture f;
  bool record_on_disk_at_accepted = false;
  f.outbound.on_message = [&](const proto::AgentMessage& message) {
    if (std::holds_alternative<proto::Accepted>(message)) record_on_disk_at_accepted = fs::exists(f.journal.record_path(op_id));
  };
  f.table.on_dispatch(exec("echo hi; echo err >&2; exit 3"));
  REQUIRE(f.run_until_finished());

  CHECK(record_on_disk_at_accepted);
  REQUIRE(f.outbound.kinds.size() >= 4);
  CHECK(f.outbound.kinds.front() == "accepted");
  CHECK(f.outbound.kinds[1] == "started");
  CHECK(f.outbound.kinds.back() == "finished");
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == "hi\n");
  CHECK(f.outbound.payload(proto::Stream::stderr_stream) == "err\n");
  CHECK(f.outbound.frame_seqs() == std::vector<std::uint64_t>{1, 2});

  const auto finished = *f.outbound.finished();
  CHECK(finished.operation_id == op_id);
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 3);
  CHECK(finished.last_seq == 2);
  CHECK_FALSE(finished.error.has_value());

  f.table.flush_journal();
  const auto record = decode_record(slurp(f.journal.record_path(op_id)));
  CHECK(record.state == OperationState::finished);
  CHECK(record.result->exit_code == 3);
  CHECK(record.result->last_seq == 2);
  REQUIRE(record.process.has_value());
  CHECK(record.process->pid > 0);
}

TEST_CASE("the command gets its operation id in TETHER_OPERATION_ID", "[agent][operations]") {
  Fixture f;
  f.table.on_dispatch(exec("printf %s \"$TETHER_OPERATION_ID\""));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == op_id);
}

TEST_CASE("env values reach the command but never the journal or the spool", "[agent][operations]") {
  Fixture f;
  const std::string secret = "value-that-must-stay-in-memory-8f3a";
  // The command proves it saw the value by its hash, so neither command nor output contain it.
  f.table.on_dispatch(exec("printf %s \"$DEPLOY_TOKEN\" | sha256sum | cut -d' ' -f1", {{"DEPLOY_TOKEN", secret}}));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == tether::crypto::sha256_hex(secret) + "\n");
  f.table.flush_journal();

  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(f.dir.path())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    CHECK(slurp(entry.path()).find("value-that-must-stay") == std::string::npos);
  }
  CHECK(files >= 2);  // the record and the spool were both inspected
  CHECK(slurp(f.journal.record_path(op_id)).find("\"DEPLOY_TOKEN\"") != std::string::npos);
}

TEST_CASE("a duplicate dispatch of a running operation is answered accepted and never started twice",
          "[agent][operations]") {
  Fixture f;
  const auto runs = f.dir / "runs";
  const auto gate = f.dir / "gate";
  const auto dispatch = exec("echo run >> '" + runs.string() + "'; while [ ! -e '" + gate.string() + "' ]; do sleep 0.02; done");
  f.table.on_dispatch(dispatch);
  REQUIRE(f.run_until([&] { return !f.outbound.all<proto::Started>().empty(); }));

  f.table.on_dispatch(dispatch);
  f.run_until([] { return false; }, 200ms);
  CHECK(f.outbound.all<proto::Accepted>().size() == 2);
  CHECK(f.outbound.all<proto::Started>().size() == 1);

  std::ofstream(gate) << "go";
  REQUIRE(f.run_until_finished());
  CHECK(count_lines(runs) == 1);
}

TEST_CASE("a duplicate dispatch after the end resends unacknowledged output and finished without running again",
          "[agent][operations]") {
  Fixture f;
  const auto runs = f.dir / "runs";
  const auto dispatch = exec("echo run >> '" + runs.string() + "'; echo one; echo two >&2");
  f.table.on_dispatch(dispatch);
  REQUIRE(f.run_until_finished());
  f.table.on_ack(proto::Ack{op_id, 1});

  f.outbound = RecordingOutbound{};
  f.table.on_dispatch(dispatch);
  f.run_until([] { return false; }, 200ms);
  CHECK(f.outbound.kinds == std::vector<std::string>{"output", "finished"});
  CHECK(f.outbound.frame_seqs() == std::vector<std::uint64_t>{2});
  CHECK(f.outbound.finished()->last_seq == 2);
  CHECK(count_lines(runs) == 1);
}

TEST_CASE("finished_ack forgets the operation and deletes its files", "[agent][operations]") {
  Fixture f;
  f.table.on_dispatch(exec("echo output"));
  REQUIRE(f.run_until_finished());
  f.table.flush_journal();
  CHECK(fs::exists(f.journal.record_path(op_id)));
  CHECK(fs::exists(f.journal.spool_path(op_id)));

  f.table.on_ack(proto::Ack{op_id, 1});
  f.table.on_finished_ack(proto::FinishedAck{op_id});
  f.table.flush_journal();
  CHECK_FALSE(f.table.knows(op_id));
  CHECK_FALSE(fs::exists(f.journal.record_path(op_id)));
  CHECK_FALSE(fs::exists(f.journal.spool_path(op_id)));
  CHECK(f.table.hello_operations().empty());
}

TEST_CASE("finished_ack for a running operation is ignored", "[agent][operations]") {
  Fixture f;
  f.table.on_dispatch(exec("sleep 5"));
  REQUIRE(f.run_until([&] { return !f.outbound.all<proto::Started>().empty(); }));
  f.table.on_finished_ack(proto::FinishedAck{op_id});
  CHECK(f.table.knows(op_id));
  f.table.on_cancel(proto::Cancel{op_id});
  REQUIRE(f.run_until_finished());
}

TEST_CASE("while disconnected output is only spooled; welcome resends what the controller lacks, then finished",
          "[agent][operations]") {
  Fixture f;
  f.outbound.is_ready = false;
  f.table.on_dispatch(exec("echo a; sleep 0.1; echo b; sleep 0.1; echo c"));
  REQUIRE(f.run_until([&] {
    auto hello = f.table.hello_operations();
    return hello.size() == 1 && hello[0].finished;
  }));
  CHECK(f.outbound.kinds.empty());
  const auto hello = f.table.hello_operations();
  CHECK(hello[0].operation_id == op_id);
  CHECK(hello[0].last_seq == 3);

  f.outbound.is_ready = true;
  f.table.on_welcome(proto::Welcome{"server", 10, {{op_id, 1, false}}});
  CHECK(f.outbound.kinds == std::vector<std::string>{"output", "output", "finished"});
  CHECK(f.outbound.frame_seqs() == std::vector<std::uint64_t>{2, 3});
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == "b\nc\n");
  CHECK(f.outbound.finished()->last_seq == 3);

  // The controller has now stored it all: the next welcome makes the agent forget the operation.
  f.table.on_welcome(proto::Welcome{"server", 10, {{op_id, 3, true}}});
  f.table.flush_journal();
  CHECK_FALSE(f.table.knows(op_id));
  CHECK_FALSE(fs::exists(f.journal.record_path(op_id)));
}

TEST_CASE("an operation whose unacknowledged output exceeds the spool limit pauses until acks arrive",
          "[agent][operations]") {
  auto settings = Fixture::default_settings();
  settings.spool_limit_bytes = 100'000;
  Fixture f(settings);
  f.table.on_dispatch(exec("head -c 1000000 /dev/zero"));
  f.run_until([] { return false; }, 700ms);
  CHECK_FALSE(f.outbound.finished().has_value());
  const auto frames_while_paused = f.outbound.frames.size();
  std::size_t unacked = 0;
  for (const auto& frame : f.outbound.frames) unacked += frame.size();
  CHECK(unacked > 100'000u);
  CHECK(unacked < 100'000u + 3 * (proto::max_output_payload + proto::output_header_size));

  // Acknowledge everything as it arrives: the command runs to its end.
  REQUIRE(f.run_until([&] {
    if (!f.outbound.frames.empty()) f.table.on_ack(proto::Ack{op_id, f.outbound.frame_seqs().back()});
    return f.outbound.finished().has_value();
  }));
  CHECK(f.outbound.frames.size() > frames_while_paused);
  CHECK(f.outbound.payload(proto::Stream::stdout_stream).size() == 1'000'000u);
  CHECK(f.outbound.finished()->status == "completed");
}

TEST_CASE("cancel of a running operation finishes it as canceled", "[agent][operations]") {
  Fixture f;
  f.table.on_dispatch(exec("echo started; sleep 100"));
  REQUIRE(f.run_until([&] { return !f.outbound.frames.empty(); }));
  f.table.on_cancel(proto::Cancel{op_id});
  REQUIRE(f.run_until_finished(5s));
  CHECK(f.outbound.finished()->status == "canceled");
  CHECK(f.outbound.finished()->last_seq == 1);
}

TEST_CASE("nothing a command started outlives its operation: 200 background sleeps end with it", "[agent][operations]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto settings = Fixture::default_settings();
  if (!in_cgroup) settings.cgroups = nullptr;
  if (in_cgroup && !settings.cgroups) {
    WARN("cgroup mode not tested here: " << cgroups_unavailable());
    return;
  }
  Fixture f(settings);
  // The sleeps hold no pipe of the command's, so the shell's exit ends the operation at once.
  const auto mark = tether::ids::new_uuid();
  f.table.on_dispatch(exec("for i in $(seq 200); do sleep 171 >/dev/null 2>&1 & done; echo started",
                           {{"LEFTOVER_MARK", mark}}));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.finished()->status == "completed");
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == "started\n");
  const auto marked = "LEFTOVER_MARK=" + mark;
  CHECK(f.run_until([&] { return processes_with_environment_entry(marked).empty(); }, 5s));
  for (const pid_t pid : processes_with_environment_entry(marked)) ::kill(pid, SIGKILL);  // whatever the outcome
}

TEST_CASE("a timeout is reported as timeout with the output read so far", "[agent][operations]") {
  Fixture f;
  f.table.on_dispatch(exec("echo before; sleep 100", {}, 1));
  REQUIRE(f.run_until_finished(8s));
  CHECK(f.outbound.finished()->status == "timeout");
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == "before\n");
}

TEST_CASE("a missing working directory finishes failed with an error naming it", "[agent][operations]") {
  Fixture f;
  auto dispatch = exec("true");
  dispatch.working_directory = "/nonexistent/app";
  f.table.on_dispatch(dispatch);
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.kinds == std::vector<std::string>{"accepted", "finished"});
  const auto finished = *f.outbound.finished();
  CHECK(finished.status == "failed");
  CHECK_FALSE(finished.exit_code.has_value());
  CHECK(finished.error == std::optional<std::string>("working directory /nonexistent/app does not exist"));
  CHECK(finished.last_seq == 0);
}

TEST_CASE("dispatches the agent cannot run are rejected and not journaled", "[agent][operations]") {
  Fixture f;
  auto unknown = exec("x");
  unknown.operation_type = "telemetry";
  f.table.on_dispatch(unknown);
  auto bad_env = exec("true", {{"A=B", "v"}});
  bad_env.operation_id = "66666666-6666-4666-8666-666666666666";
  f.table.on_dispatch(bad_env);

  const auto rejected = f.outbound.all<proto::Rejected>();
  REQUIRE(rejected.size() == 2);
  CHECK(rejected[0].operation_id == op_id);
  CHECK_THAT(rejected[0].error, Catch::Contains("unsupported operation type \"telemetry\" (this agent runs: exec, "
                                               "deploy, restart, reboot, registry_login, registry_logout)"));
  CHECK_THAT(rejected[1].error, Catch::Contains("env key 'A=B'"));
  CHECK(f.table.size() == 0);
  CHECK(fs::is_empty(f.journal.directory()));
}

TEST_CASE("start-up settles operations left running: their orphans are killed and they are reported failed",
          "[agent][operations]") {
  tether::testing::TempDir dir("agent-recover");
  // A process standing in for a command whose agent died: its own group, like the runner's.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t orphan = -1;
  char sh[] = "/bin/sh", dash_c[] = "-c", command[] = "sleep 100";
  char* argv[] = {sh, dash_c, command, nullptr};
  REQUIRE(::posix_spawn(&orphan, "/bin/sh", nullptr, &attributes, argv, environ) == 0);
  posix_spawnattr_destroy(&attributes);
  const auto ticks = process_start_ticks(orphan);
  REQUIRE(ticks.has_value());

  const std::string stranger_id = "77777777-7777-4777-8777-777777777777";
  const std::string unstarted_id = "88888888-8888-4888-8888-888888888888";
  // A command whose start the previous agent never got to record: found by its operation id.
  std::string marker = std::string(operation_id_variable) + "=" + unstarted_id;
  char* marked_env[] = {marker.data(), nullptr};
  pid_t unrecorded = -1;
  REQUIRE(::posix_spawn(&unrecorded, "/bin/sh", nullptr, nullptr, argv, marked_env) == 0);
  {
    Journal journal(dir.path());
    OperationRecord running;
    running.id = op_id;
    running.command = "sleep 100";
    running.state = OperationState::running;
    running.boot_id = boot_id;
    running.process = ProcessIdentity{orphan, orphan, *ticks};
    journal.save(running, Durability::synced);

    // Same pid, different start time: a pid that was reused by someone else must be left alone.
    OperationRecord stranger = running;
    stranger.id = stranger_id;
    stranger.process->start_ticks = *ticks + 12345;
    journal.save(stranger, Durability::synced);

    OperationRecord unstarted = running;
    unstarted.id = unstarted_id;
    unstarted.state = OperationState::accepted;
    unstarted.process.reset();
    journal.save(unstarted, Durability::synced);
  }

  boost::asio::io_context io;
  Journal journal(dir.path());
  RecordingOutbound outbound;
  OperationTable table(io.get_executor(), journal, Fixture::default_settings(), outbound);
  table.recover();

  for (const pid_t pid : {orphan, unrecorded}) {
    const auto status = testing::reap(pid, 3s);
    REQUIRE(status.has_value());
    CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
  }

  auto hello = table.hello_operations();
  REQUIRE(hello.size() == 3);
  for (const auto& entry : hello) CHECK(entry.finished);
  for (const auto& id : {op_id, stranger_id, unstarted_id}) {
    const auto record = decode_record(slurp(journal.record_path(id)));
    CHECK(record.state == OperationState::finished);
    CHECK(record.result->status == "failed");
    CHECK(record.result->error == std::optional<std::string>(std::string(restarted_error)));
  }

  // The controller asks again for the operation: it is reported, never run again.
  outbound.is_ready = true;
  table.on_dispatch(exec("sleep 100"));
  CHECK(outbound.kinds == std::vector<std::string>{"finished"});
  CHECK(outbound.finished()->status == "failed");
}

TEST_CASE("start-up empties and removes the operation cgroups a previous agent process left", "[agent][operations][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  // A finished operation whose leftovers the previous agent had no time to end (no journal
  // record is needed: the cgroup alone says what belongs to an operation).
  const std::string finished_id = "99999999-9999-4999-8999-999999999999";
  std::string error;
  const auto cgroup = test_cgroups()->create(finished_id, error);
  REQUIRE(cgroup);
  const pid_t leftover = start_in_cgroup(*cgroup, "setsid sleep 100; exit 0");

  Fixture f;
  f.table.recover();
  const auto status = testing::reap(leftover, 3s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
  CHECK_FALSE(fs::exists(cgroup->path()));
}

TEST_CASE("journal records from a previous run keep their spooled output for the resync", "[agent][operations]") {
  tether::testing::TempDir dir("agent-recover");
  {
    boost::asio::io_context io;
    Journal journal(dir.path());
    RecordingOutbound outbound;
    outbound.is_ready = false;
    OperationTable table(io.get_executor(), journal, Fixture::default_settings(), outbound);
    table.on_dispatch(exec("echo one; echo two >&2"));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      io.run_one_for(20ms);
      auto hello = table.hello_operations();
      if (hello.size() == 1 && hello[0].finished) break;
    }
    table.flush_journal();
  }
  boost::asio::io_context io;
  Journal journal(dir.path());
  RecordingOutbound outbound;
  OperationTable table(io.get_executor(), journal, Fixture::default_settings(), outbound);
  table.recover();
  const auto hello = table.hello_operations();
  REQUIRE(hello.size() == 1);
  CHECK(hello[0].finished);
  CHECK(hello[0].last_seq == 2);
  table.on_welcome(proto::Welcome{"server", 10, {{op_id, 0, false}}});
  CHECK(outbound.kinds == std::vector<std::string>{"output", "output", "finished"});
  CHECK(outbound.finished()->status == "completed");
}
