#include "agent/process_runner.hpp"

#include "orphan_reaping.hpp"
#include "test_cgroups.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

using namespace tether::agent;
using tether::proto::Stream;
using namespace std::chrono_literals;

namespace {

struct Capture {
  std::string out;
  std::string err;
  std::vector<Stream> chunk_streams;
  std::optional<ProcessOutcome> outcome;
  std::optional<std::string> spawn_error;
  ProcessIdentity identity;
};

using Hook = std::function<void(ProcessRunner&, Capture&, Stream, std::string_view)>;

ProcessSpec shell(std::string command, std::chrono::milliseconds timeout = 10s) {
  ProcessSpec spec;
  spec.command = std::move(command);
  spec.timeout = timeout;
  spec.kill_grace = 1s;
  return spec;
}

// Runs the command on a real io_context until its outcome arrives (or `bound` passes, which the
// caller then sees as a missing outcome). `on_chunk` runs after each chunk is captured.
Capture run(ProcessSpec spec, std::chrono::milliseconds bound = 10s, Hook on_chunk = {},
            std::function<void(ProcessRunner&)> after_start = {}) {
  boost::asio::io_context io;
  auto runner = std::make_shared<ProcessRunner>(io.get_executor(), std::move(spec));
  Capture capture;
  auto started = runner->start(
      [&](Stream stream, std::string_view data) {
        (stream == Stream::stdout_stream ? capture.out : capture.err).append(data);
        capture.chunk_streams.push_back(stream);
        if (on_chunk) on_chunk(*runner, capture, stream, data);
      },
      [&](const ProcessOutcome& outcome) {
        capture.outcome = outcome;
        io.stop();
      });
  if (auto* error = std::get_if<std::string>(&started)) {
    capture.spawn_error = *error;
    return capture;
  }
  capture.identity = std::get<ProcessIdentity>(started);
  if (after_start) after_start(*runner);
  io.run_for(bound);
  return capture;
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

// The agent runs commands in one of two ways: in their process group only, or also in an
// operation cgroup. Tests that GENERATE both call this: it gives the spec a cgroup in the second
// case, and returns false (after a warning) when this machine has none to give.
bool contain(ProcessSpec& spec, bool in_cgroup) {
  if (!in_cgroup) return true;
  spec.cgroup = testing::new_operation_cgroup();
  if (spec.cgroup) return true;
  WARN("cgroup mode not tested here: " << testing::cgroups_unavailable());
  return false;
}

// Runs the command to its outcome, calls `at_outcome`, then end_remaining(), and lets the runner
// finish that (bounded by `bound`).
Capture run_and_end(ProcessSpec spec, std::chrono::milliseconds bound = 10s, std::function<void()> at_outcome = {}) {
  boost::asio::io_context io;
  auto runner = std::make_shared<ProcessRunner>(io.get_executor(), std::move(spec));
  Capture capture;
  auto started = runner->start(
      [&](Stream stream, std::string_view data) { (stream == Stream::stdout_stream ? capture.out : capture.err).append(data); },
      [&](const ProcessOutcome& outcome) {
        capture.outcome = outcome;
        if (at_outcome) at_outcome();
        runner->end_remaining();
        runner.reset();
      });
  if (auto* error = std::get_if<std::string>(&started)) {
    capture.spawn_error = *error;
    return capture;
  }
  capture.identity = std::get<ProcessIdentity>(started);
  io.run_for(bound);  // returns early once the runner has nothing left to do
  return capture;
}

}  // namespace

TEST_CASE("runner captures stdout and stderr exactly and reports the exit code", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("echo hi; echo err >&2; exit 3");
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "completed");
  CHECK(result.outcome->exit_code == 3);
  CHECK_FALSE(result.outcome->error.has_value());
  CHECK(result.out == "hi\n");
  CHECK(result.err == "err\n");
}

TEST_CASE("runner keeps large output complete and in order", "[agent][runner]") {
  std::string expected;
  for (int i = 1; i <= 50000; ++i) expected += std::to_string(i) + "\n";
  const auto result = run(shell("seq 1 50000"));
  REQUIRE(result.outcome);
  CHECK(result.outcome->exit_code == 0);
  CHECK(result.out.size() == expected.size());
  CHECK(result.out == expected);
  CHECK(result.chunk_streams.size() >= 2);  // more than one 64 KiB chunk
}

TEST_CASE("runner passes dispatch env values to the command on top of the agent's environment", "[agent][runner]") {
  ::setenv("TETHER_RUNNER_TEST_INHERITED", "from-agent", 1);
  ::setenv("TETHER_TOKEN", "tat_must_not_leak", 1);
  auto spec = shell("printf '%s|%s|%s' \"$DEPLOY_SECRET\" \"$TETHER_RUNNER_TEST_INHERITED\" \"${TETHER_TOKEN-unset}\"");
  spec.env = {{"DEPLOY_SECRET", "s3cr3t value with spaces"}};
  const auto result = run(std::move(spec));
  ::unsetenv("TETHER_TOKEN");
  ::unsetenv("TETHER_RUNNER_TEST_INHERITED");
  REQUIRE(result.outcome);
  CHECK(result.out == "s3cr3t value with spaces|from-agent|unset");
}

TEST_CASE("runner starts the command in the requested working directory", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  tether::testing::TempDir dir("agent-runner");
  auto spec = shell("pwd");
  if (!contain(spec, in_cgroup)) return;
  spec.working_directory = dir.path().string();
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.out == std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST_CASE("runner refuses a missing working directory and names it", "[agent][runner]") {
  auto spec = shell("true");
  spec.working_directory = "/nonexistent/tether-dir";
  const auto result = run(std::move(spec));
  REQUIRE(result.spawn_error);
  CHECK(*result.spawn_error == "working directory /nonexistent/tether-dir does not exist");
  CHECK_FALSE(result.outcome.has_value());
}

TEST_CASE("runner refuses a working directory that is a file", "[agent][runner]") {
  tether::testing::TempDir dir("agent-runner");
  std::ofstream(dir / "file") << "x";
  auto spec = shell("true");
  spec.working_directory = (dir / "file").string();
  const auto result = run(std::move(spec));
  REQUIRE(result.spawn_error);
  CHECK_THAT(*result.spawn_error, Catch::Contains("is not a directory"));
}

TEST_CASE("runner gives the command its own process group and /dev/null as stdin", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("ps -o pgid= -p $$ | tr -d ' '; echo $$; cat; echo stdin-done");
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  const auto lines = result.out;
  const auto first_newline = lines.find('\n');
  const auto pgid = lines.substr(0, first_newline);
  const auto pid = lines.substr(first_newline + 1, lines.find('\n', first_newline + 1) - first_newline - 1);
  CHECK(pgid == pid);
  CHECK(pgid == std::to_string(result.identity.pgid));
  CHECK(lines.find("stdin-done") != std::string::npos);
}

TEST_CASE("runner delivers output while the command is still running", "[agent][runner]") {
  tether::testing::TempDir dir("agent-runner");
  const auto gate = dir / "gate";
  // The command cannot print its second line before the test has seen the first one.
  auto spec = shell("echo first; while [ ! -e '" + gate.string() + "' ]; do sleep 0.02; done; echo second");
  bool first_seen_while_running = false;
  const auto result = run(std::move(spec), 10s, [&](ProcessRunner&, Capture& capture, Stream, std::string_view) {
    if (capture.out == "first\n") {
      siginfo_t info{};
      first_seen_while_running =
          ::waitid(P_PID, capture.identity.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
      std::ofstream(gate) << "go";
    }
  });
  REQUIRE(result.outcome);
  CHECK(first_seen_while_running);
  CHECK(result.out == "first\nsecond\n");
}

TEST_CASE("runner kills the whole process group at the deadline and reports timeout", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  auto spec = shell("sleep 100 & echo $! > '" + pid_file.string() + "'; wait", 1s);
  spec.kill_grace = 1s;
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec), 8s);
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "timeout");
  CHECK_FALSE(result.outcome->exit_code.has_value());  // the shell died of SIGTERM
  CHECK_THAT(result.outcome->error.value_or(""), Catch::Contains("timeout of 1 s"));
  CHECK(result.outcome->duration_ms >= 1000);

  const pid_t background = testing::read_pid_file(pid_file, 1s);
  const auto status = testing::reap(background, 3s);
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));
  CHECK(process_gone(background));
}

TEST_CASE("runner escalates to SIGKILL after the grace period when SIGTERM is ignored", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("trap '' TERM; echo ready; while :; do sleep 0.05; done", 1s);
  spec.kill_grace = 500ms;
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec), 8s);
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "timeout");
  CHECK(result.outcome->duration_ms >= 1500);
  CHECK(process_gone(result.identity.pid));
}

TEST_CASE("runner cancel stops the process group and reports canceled", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  auto spec = shell("sleep 100 & echo $! > '" + pid_file.string() + "'; echo started; wait", 30s);
  if (!contain(spec, in_cgroup)) return;
  bool cancel_accepted = false;
  const auto result = run(std::move(spec), 8s, [&](ProcessRunner& runner, Capture& capture, Stream, std::string_view) {
    if (capture.out == "started\n") cancel_accepted = runner.cancel();
  });
  REQUIRE(result.outcome);
  CHECK(cancel_accepted);
  CHECK(result.outcome->status == "canceled");
  CHECK(result.outcome->error == std::optional<std::string>("operation canceled"));

  const pid_t background = testing::read_pid_file(pid_file, 1s);
  REQUIRE(testing::reap(background, 3s).has_value());
  CHECK(process_gone(background));
}

TEST_CASE("runner reports a command killed by a signal as completed with 128 + signal", "[agent][runner]") {
  const auto result = run(shell("kill -TERM $$"));
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "completed");
  CHECK(result.outcome->exit_code == 128 + SIGTERM);
}

TEST_CASE("runner reports the signal that ended the command, and none for an exit", "[agent][runner]") {
  const auto killed = run(shell("kill -KILL $$"));
  REQUIRE(killed.outcome);
  CHECK(killed.outcome->signal == SIGKILL);
  const auto exited = run(shell("exit 137"));
  REQUIRE(exited.outcome);
  CHECK(exited.outcome->exit_code == 137);
  CHECK_FALSE(exited.outcome->signal.has_value());
}

TEST_CASE("runner runs an argv without a shell: every word arrives verbatim", "[agent][runner]") {
  tether::testing::TempDir dir("agent-runner");
  const auto marker = dir / "expanded";
  ProcessSpec spec = shell("");
  spec.argv = {"/usr/bin/printf", "[%s]", "two words", "$HOME", "'quoted'", "$(touch " + marker.string() + ")", "a;b"};
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.outcome->exit_code == 0);
  CHECK(result.out == "[two words][$HOME]['quoted'][$(touch " + marker.string() + ")][a;b]");
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("runner names the program it cannot start", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  ProcessSpec spec = shell("");
  spec.argv = {"/nonexistent/tether-runtime", "restart", "web"};
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec));
  REQUIRE(result.spawn_error);
  CHECK(*result.spawn_error == "cannot start /nonexistent/tether-runtime: No such file or directory");
}

TEST_CASE("runner writes stdin_data to the command's stdin and then closes it", "[agent][runner]") {
  // cat only ends at end-of-file, so its exit proves the pipe was closed after the data.
  const std::string secret = "pa$$ word\nwith \"quotes\" and a trailing newline\n";
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("cat; echo '<eof>'");
  spec.stdin_data = secret;
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.outcome->exit_code == 0);
  CHECK(result.out == secret + "<eof>\n");
}

TEST_CASE("runner stdin_data of the largest allowed size arrives whole", "[agent][runner]") {
  std::string data(max_stdin_size, 'x');
  auto spec = shell("wc -c");
  spec.stdin_data = data;
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.out == std::to_string(max_stdin_size) + "\n");
}

TEST_CASE("runner with stdin_data finishes when the command never reads its stdin", "[agent][runner]") {
  auto spec = shell("echo ignored-stdin");
  spec.stdin_data = std::string(4096, 'p');
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "completed");
  CHECK(result.out == "ignored-stdin\n");
}

TEST_CASE("runner hands the command's fd 3 report to the outcome, kept apart from its output", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("echo visible; echo 'resolved abc' >&3; exec 3>&-; echo after");
  spec.report_pipe = true;
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.outcome->report == "resolved abc\n");
  CHECK(result.out == "visible\nafter\n");

  // Without report_pipe fd 3 is not open in the command at all.
  auto without = shell("echo x >&3 || echo no-fd-3");
  if (!contain(without, in_cgroup)) return;
  const auto closed = run(std::move(without));
  REQUIRE(closed.outcome);
  CHECK(closed.out == "no-fd-3\n");
  CHECK(closed.outcome->report.empty());
}

TEST_CASE("runner reads the report even when a background process still holds fd 3", "[agent][runner]") {
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  auto spec = shell("echo early >&3; sleep 100 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'");
  spec.report_pipe = true;
  const auto result = run(std::move(spec), 8s);
  REQUIRE(result.outcome);
  CHECK(result.outcome->report == "early\n");
  const pid_t background = testing::read_pid_file(pid_file, 1s);
  ::kill(background, SIGKILL);
  CHECK(testing::reap(background, 3s).has_value());
}

TEST_CASE("runner stops waiting for pipes held open by a background process after the drain limit", "[agent][runner]") {
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("sleep 100 & echo $! > '" + pid_file.string() + "'; echo done");
  spec.drain_limit = 300ms;
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec), 8s);
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "completed");
  CHECK(result.outcome->exit_code == 0);
  CHECK(result.out == "done\n");

  const pid_t background = testing::read_pid_file(pid_file, 1s);
  const auto status = testing::reap(background, 3s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
}

TEST_CASE("runner ends what the command left running once its owner is done: SIGTERM at once", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  auto spec = shell("sleep 100 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'");
  spec.drain_limit = 300ms;
  spec.kill_grace = 20s;  // SIGTERM suffices: the test ends long before the SIGKILL would come
  if (!contain(spec, in_cgroup)) return;

  // The outcome itself leaves the background process alone (a reboot waits with it for the reboot).
  bool alive_at_outcome = false;
  const auto result = run_and_end(std::move(spec), 8s, [&] {
    alive_at_outcome = ::kill(testing::read_pid_file(pid_file, 1s), 0) == 0;
  });
  REQUIRE(result.outcome);
  CHECK(alive_at_outcome);
  CHECK(result.outcome->status == "completed");
  const pid_t background = testing::read_pid_file(pid_file, 1s);
  const auto status = testing::reap(background, 5s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGTERM));
}

TEST_CASE("runner ends what the command left running with SIGKILL when it ignores SIGTERM", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  // An ignored signal stays ignored across fork and exec: the sleep ignores SIGTERM too.
  auto spec = shell("trap '' TERM; sleep 100 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'");
  spec.kill_grace = 500ms;
  if (!contain(spec, in_cgroup)) return;
  const auto result = run_and_end(std::move(spec), 8s);
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "completed");
  const pid_t background = testing::read_pid_file(pid_file, 1s);
  const auto status = testing::reap(background, 5s);
  REQUIRE(status.has_value());
  CHECK((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
}

TEST_CASE("runner in a cgroup ends a process that left the process group with setsid", "[agent][runner][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  testing::become_subreaper();
  tether::testing::TempDir dir("agent-runner");
  const auto pid_file = dir / "child.pid";
  // setsid(1) in a process that leads no group calls setsid() itself: $! is the escaped sleep.
  auto spec = shell("setsid sleep 100 >/dev/null 2>&1 & echo $! > '" + pid_file.string() + "'");
  spec.cgroup = testing::new_operation_cgroup();
  const auto cgroup_path = spec.cgroup->path();
  const auto result = run_and_end(std::move(spec), 8s);
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "completed");
  const pid_t background = testing::read_pid_file(pid_file, 1s);
  const auto status = testing::reap(background, 5s);
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));
  CHECK_FALSE(std::filesystem::exists(cgroup_path));  // removed once empty
}

TEST_CASE("runner in a cgroup starts the command inside its operation's cgroup", "[agent][runner][cgroup]") {
  TETHER_REQUIRE_CGROUPS_OR_RETURN();
  auto spec = shell("grep '^0::' /proc/self/cgroup; (grep '^0::' /proc/self/cgroup) | cat");
  spec.cgroup = testing::new_operation_cgroup();
  const auto name = spec.cgroup->path().filename().string();
  const auto result = run_and_end(std::move(spec));
  REQUIRE(result.outcome);
  CHECK(result.outcome->exit_code == 0);
  // Both the shell's children report the same cgroup v2 path, ending in the operation's directory.
  const auto first_line = result.out.substr(0, result.out.find('\n') + 1);
  CHECK_THAT(first_line, Catch::Contains("0::/") && Catch::EndsWith("/" + name + "\n"));
  CHECK(result.out == first_line + first_line);
}

TEST_CASE("runner's command inherits no descriptor of the agent and default signal dispositions", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  tether::testing::TempDir dir("agent-runner");
  const auto open_file = dir / "agent-private-file";
  const int fd = ::open(open_file.c_str(), O_CREAT | O_WRONLY, 0600);  // not close-on-exec
  REQUIRE(fd >= 0);
  const auto previous = ::signal(SIGPIPE, SIG_IGN);  // as the agent does
  auto spec = shell("ls -l /proc/$$/fd/; grep SigIgn /proc/$$/status");
  const bool contained = contain(spec, in_cgroup);
  const auto result = contained ? run(std::move(spec)) : Capture{};
  ::signal(SIGPIPE, previous);
  ::close(fd);
  if (!contained) return;
  REQUIRE(result.outcome);
  CHECK(result.outcome->exit_code == 0);
  CHECK(result.out.find(open_file.string()) == std::string::npos);
  CHECK(result.out.find(" 3 -> ") == std::string::npos);
  // The agent's ignored SIGPIPE is back to its default (glibc's posix_spawn leaves its own
  // internal signals 32 and 33 ignored, which is no concern of the command's).
  const auto ignored_at = result.out.find("SigIgn:\t");
  REQUIRE(ignored_at != std::string::npos);
  const auto ignored = std::stoull(result.out.substr(ignored_at + 8, 16), nullptr, 16);
  CHECK((ignored & (1ull << (SIGPIPE - 1))) == 0);
}

TEST_CASE("runner paused for back-pressure reads nothing until resumed, then loses nothing", "[agent][runner]") {
  // 1 MB cannot fit in a pipe: while reading is paused the command blocks instead of finishing.
  auto spec = shell("head -c 1000000 /dev/zero");
  boost::asio::io_context io;
  auto runner = std::make_shared<ProcessRunner>(io.get_executor(), std::move(spec));
  std::size_t received = 0;
  std::size_t received_at_pause = 0;
  std::optional<ProcessOutcome> outcome;
  auto started = runner->start(
      [&](Stream, std::string_view data) {
        received += data.size();
        if (received_at_pause == 0) {
          runner->pause_output();
          received_at_pause = received;
        }
      },
      [&](const ProcessOutcome& result) {
        outcome = result;
        io.stop();
      });
  REQUIRE(std::holds_alternative<ProcessIdentity>(started));
  io.run_for(700ms);
  CHECK_FALSE(outcome.has_value());
  CHECK(received == received_at_pause);
  CHECK(runner->output_paused());

  io.restart();
  runner->resume_output();
  io.run_for(10s);
  REQUIRE(outcome.has_value());
  CHECK(outcome->status == "completed");
  CHECK(received == 1000000u);
}

TEST_CASE("runner abort kills the command and reports failed with the reason", "[agent][runner]") {
  const bool in_cgroup = GENERATE(false, true);
  CAPTURE(in_cgroup);
  auto spec = shell("echo go; sleep 100");
  if (!contain(spec, in_cgroup)) return;
  const auto result = run(std::move(spec), 8s, [](ProcessRunner& runner, Capture&, Stream, std::string_view) {
    runner.abort("cannot write the output spool: disk full");
  });
  REQUIRE(result.outcome);
  CHECK(result.outcome->status == "failed");
  CHECK_FALSE(result.outcome->exit_code.has_value());
  CHECK(result.outcome->error == std::optional<std::string>("cannot write the output spool: disk full"));
  CHECK(process_gone(result.identity.pid));
}

TEST_CASE("command environment drops the agent token and lets dispatch env override", "[agent][runner]") {
  const char* base[] = {"PATH=/bin", "TETHER_TOKEN=tat_x", "HOME=/root", "MODE=old", nullptr};
  const auto env = command_environment(base, {{"MODE", "new"}, {"EXTRA", "a=b"}});
  CHECK(env == std::vector<std::string>{"PATH=/bin", "HOME=/root", "EXTRA=a=b", "MODE=new"});
}
