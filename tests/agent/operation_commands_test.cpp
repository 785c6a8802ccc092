// restart and registry login/logout through the operation table, with the container runtime
// replaced by a script that records its argv and stdin, one line per word.
#include "agent/operation_commands.hpp"

#include "operation_table_fixture.hpp"

#include <catch2/catch.hpp>
#include <sys/stat.h>

using namespace tether::agent;
using namespace tether::agent::testing;

namespace {

const std::string password = "hunter2-\"quoted\" $(not run) 'single' \\ end";

// A container runtime that records how it was called. It lives outside the fixture's state dir,
// so the state dir's files can be searched for the password afterwards.
struct RecordingRuntime {
  tether::testing::TempDir dir{"agent-runtime"};
  fs::path program = dir / "fake-runtime";

  explicit RecordingRuntime(int exit_code = 0) {
    std::ofstream(program) << "#!/bin/sh\n"
                           << "printf '%s\\n' \"$@\" > '" << (dir / "argv").string() << "'\n"
                           << "cat > '" << (dir / "stdin").string() << "'\n"
                           << "echo \"runtime says: $1 done\"\n"
                           << "exit " << exit_code << "\n";
    fs::permissions(program, fs::perms::owner_all);
  }
  std::vector<std::string> argv() const {
    std::vector<std::string> words;
    std::istringstream lines(slurp(dir / "argv"));
    for (std::string line; std::getline(lines, line);) words.push_back(line);
    return words;
  }
  std::string stdin_text() const { return slurp(dir / "stdin"); }
  bool ran() const { return fs::exists(dir / "argv"); }
};

OperationSettings settings_with(const std::string& runtime) {
  auto settings = Fixture::default_settings();
  settings.commands.container_runtime = runtime;
  return settings;
}

proto::Dispatch restart(std::string name) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.operation_type = "restart";
  dispatch.container_name = std::move(name);
  dispatch.timeout_seconds = 30;
  return dispatch;
}

proto::Dispatch login(std::string registry_url, std::string username, std::string secret) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.operation_type = "registry_login";
  dispatch.registry_url = std::move(registry_url);
  dispatch.username = std::move(username);
  dispatch.password = std::move(secret);
  dispatch.timeout_seconds = 30;
  return dispatch;
}

proto::Dispatch logout(std::string registry_url) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.operation_type = "registry_logout";
  dispatch.registry_url = std::move(registry_url);
  dispatch.timeout_seconds = 30;
  return dispatch;
}

std::string rejection_of(const proto::Dispatch& dispatch) {
  CommandSettings settings{"docker", "true"};
  return dispatch_problem(dispatch, settings).value_or("");
}

}  // namespace

TEST_CASE("restart runs '<runtime> restart <name>' without a shell and reports its exit code", "[agent][commands]") {
  RecordingRuntime runtime(0);
  Fixture f(settings_with(runtime.program.string()));
  f.table.on_dispatch(restart("web_1.blue-2"));
  REQUIRE(f.run_until_finished());
  const auto finished = *f.outbound.finished();
  CHECK(finished.status == "completed");
  CHECK(finished.exit_code == 0);
  CHECK(runtime.argv() == std::vector<std::string>{"restart", "web_1.blue-2"});
  CHECK(runtime.stdin_text().empty());
  CHECK(f.outbound.payload(proto::Stream::stdout_stream) == "runtime says: restart done\n");
  f.table.flush_journal();
  CHECK(decode_record(slurp(f.journal.record_path(op_id))).container_name == "web_1.blue-2");
}

TEST_CASE("a failing runtime makes a completed operation with its non-zero exit code", "[agent][commands]") {
  RecordingRuntime runtime(1);
  Fixture f(settings_with(runtime.program.string()));
  f.table.on_dispatch(logout("ghcr.io"));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.finished()->status == "completed");
  CHECK(f.outbound.finished()->exit_code == 1);
  CHECK(runtime.argv() == std::vector<std::string>{"logout", "ghcr.io"});
}

TEST_CASE("container names outside [A-Za-z0-9][A-Za-z0-9_.-]* or over 255 characters are rejected, never run",
          "[agent][commands]") {
  RecordingRuntime runtime;
  Fixture f(settings_with(runtime.program.string()));
  const std::vector<std::string> bad = {"",         "-rm",     "_web",        ".web",           "web app",
                                        "web;id",   "web$(id)", "web\nsecond", "caf\xC3\xA9", std::string(256, 'a')};
  for (const auto& name : bad) {
    INFO(name);
    CHECK_FALSE(is_valid_container_name(name));
  }
  for (const auto& name : {std::string("a"), std::string("A.b_c-9"), std::string("9lives"), std::string(255, 'z')}) {
    INFO(name);
    CHECK(is_valid_container_name(name));
  }
  f.table.on_dispatch(restart("web;id"));
  const auto rejected = f.outbound.all<proto::Rejected>();
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0].error ==
        "container_name \"web;id\" is not a valid container name ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 255 characters)");
  CHECK(f.table.size() == 0);
  CHECK_FALSE(runtime.ran());
}

TEST_CASE("registry login passes the password on stdin only: exact argv, exact stdin, nothing on disk",
          "[agent][commands]") {
  RecordingRuntime runtime;
  Fixture f(settings_with(runtime.program.string()));
  f.table.on_dispatch(login("ghcr.io", "ci-bot", password));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.finished()->status == "completed");
  CHECK(f.outbound.finished()->exit_code == 0);
  CHECK(runtime.argv() == std::vector<std::string>{"login", "ghcr.io", "-u", "ci-bot", "--password-stdin"});
  CHECK(runtime.stdin_text() == password);
  f.table.flush_journal();

  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(f.dir.path())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    INFO(entry.path());
    CHECK(slurp(entry.path()).find("hunter2") == std::string::npos);
  }
  CHECK(files >= 2);  // the record and the spool were both searched
  const auto record = decode_record(slurp(f.journal.record_path(op_id)));
  CHECK(record.registry_url == "ghcr.io");
  CHECK(record.username == "ci-bot");
}

TEST_CASE("registry logout runs '<runtime> logout <url>' with nothing on stdin", "[agent][commands]") {
  RecordingRuntime runtime;
  Fixture f(settings_with(runtime.program.string()));
  f.table.on_dispatch(logout("registry.example.com:5000"));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.finished()->exit_code == 0);
  CHECK(runtime.argv() == std::vector<std::string>{"logout", "registry.example.com:5000"});
  CHECK(runtime.stdin_text().empty());
}

TEST_CASE("registry arguments that the runtime would read as options are rejected, and no error quotes the password",
          "[agent][commands]") {
  CHECK(rejection_of(login("-H", "u", password)) == "registry_url \"-H\" must not start with '-'");
  CHECK(rejection_of(login("ghcr.io", "--password=x", password)) == "username \"--password=x\" must not start with '-'");
  CHECK(rejection_of(login("ghcr.io\n", "u", password)) == "registry_url \"ghcr.io\\n\" contains control characters");
  CHECK(rejection_of(login("ghcr.io", "", password)) == "username is empty");
  CHECK(rejection_of(login("ghcr.io", "u", "")) == "password is empty");
  const auto too_long = std::string(max_stdin_size + 1, 'p');
  CHECK(rejection_of(login("ghcr.io", "u", too_long)) == "password is longer than 65536 bytes");
  CHECK(rejection_of(logout("")) == "registry_url is empty");
  CHECK(rejection_of(login("ghcr.io", "u", password)).empty());
}

TEST_CASE("a runtime name is looked up in PATH when the operation starts; a missing one fails naming it",
          "[agent][commands]") {
  RecordingRuntime runtime;
  const auto directory = runtime.dir.path().string();
  CHECK(find_program("fake-runtime", "/nonexistent:" + directory) == runtime.program.string());
  CHECK_FALSE(find_program("fake-runtime", "/nonexistent:/usr/bin").has_value());
  CHECK(find_program("/opt/podman/bin/podman", "") == "/opt/podman/bin/podman");  // a path is used as is

  // A file that is not executable, and a directory, are passed over.
  tether::testing::TempDir other("agent-runtime-path");
  std::ofstream(other / "fake-runtime") << "#!/bin/sh\n";
  fs::permissions(other / "fake-runtime", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_directory(other / "sub");
  CHECK(find_program("fake-runtime", other.path().string() + ":" + directory) == runtime.program.string());
  CHECK_FALSE(find_program("sub", other.path().string()).has_value());

  Fixture f(settings_with("tether-no-such-runtime"));
  f.table.on_dispatch(restart("web"));
  REQUIRE(f.run_until_finished());
  CHECK(f.outbound.kinds == std::vector<std::string>{"accepted", "finished"});
  CHECK(f.outbound.finished()->status == "failed");
  CHECK(f.outbound.finished()->error == "container runtime 'tether-no-such-runtime' was not found in PATH");
}

TEST_CASE("an agent without a runtime or reboot command rejects those operations", "[agent][commands]") {
  const CommandSettings none{};
  CHECK(dispatch_problem(restart("web"), none) == "this agent has no container runtime configured");
  proto::Dispatch reboot;
  reboot.operation_id = op_id;
  reboot.operation_type = "reboot";
  CHECK(dispatch_problem(reboot, none) == "this agent has no reboot command configured");
}
