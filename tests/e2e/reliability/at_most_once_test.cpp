// Issue 4, points 2 and 8: a dispatch whose delivery is cut short (the controller killed or
// restarted right after sending it, so the agent's socket drops before the acknowledgement is
// stored) never runs the command a second time. Each command appends its operation id to a
// marker file; whatever the timing of the crash, every operation that exists ends completed with
// exactly one line in its marker, and an exec that the crash swallowed runs never.
#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <set>
#include <sstream>
#include <thread>
#include <vector>

using namespace tether;
using namespace tether::reliability;

namespace {

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::istringstream in(testing::read_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every operation id the controller knows (operator list).
std::set<std::string> operation_ids(testing::TetherStack& stack) {
  const auto response = stack.admin("GET", "/api/operations?limit=1000");
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  std::set<std::string> ids;
  const auto listed = e2e::json_object(response);
  for (const auto& operation : listed.at("operations").as_array()) {
    ids.insert(e2e::string_field(operation.as_object(), "operation_id"));
  }
  return ids;
}

// When the controller goes down, relative to the exec request.
struct Crash {
  std::string name;
  int signal;                                    // SIGKILL: crash; SIGTERM: orderly restart
  std::optional<std::chrono::milliseconds> after;  // after this delay, else once the command started
};

struct Round {
  std::string name;
  std::filesystem::path marker;
  std::optional<std::string> operation_id;  // the operation this round's exec created, if any
};

}  // namespace

TEST_CASE("a dispatch cut off by a controller crash or restart runs its command at most once",
          "[e2e][reliability][at-most-once]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();

  // The command's first act is the marker line, so "started" is visible the moment it runs.
  const std::vector<Crash> crashes{
      {"kill -9 once the command started", SIGKILL, std::nullopt},
      {"restart once the command started", SIGTERM, std::nullopt},
      {"kill -9 at once", SIGKILL, std::chrono::milliseconds(0)},
      {"kill -9 after 20 ms", SIGKILL, std::chrono::milliseconds(20)},
      {"kill -9 after 50 ms", SIGKILL, std::chrono::milliseconds(50)},
      {"kill -9 after 100 ms", SIGKILL, std::chrono::milliseconds(100)},
      {"kill -9 after 200 ms", SIGKILL, std::chrono::milliseconds(200)},
      {"restart after 50 ms", SIGTERM, std::chrono::milliseconds(50)},
  };

  std::set<std::string> known = operation_ids(stack);
  std::vector<Round> rounds;
  for (std::size_t i = 0; i < crashes.size(); ++i) {
    const auto& crash = crashes[i];
    Round round{crash.name, stack.dir() / fmt::format("marker-{}", i), std::nullopt};
    const std::string command =
        fmt::format("echo \"$TETHER_OPERATION_ID\" >> {}; sleep 0.5", testing::shell_quote(round.marker.string()));

    // The exec's own connection is cut by the crash: its answer (or its failure) does not matter.
    std::thread request([&stack, &key, &command] {
      try {
        auto client = stack.client();
        testing::exec(client, key.key, e2e::exec_body(stack.server_id(), command));
      } catch (const std::exception&) {
      }
    });
    if (crash.after) {
      std::this_thread::sleep_for(*crash.after);
    } else {
      const bool started = testing::wait_until([&] { return !lines_of(round.marker).empty(); }, std::chrono::seconds(20),
                                               std::chrono::milliseconds(1));
      INFO(crash.name << "\n" << stack_logs(stack));
      REQUIRE(started);
    }
    stack.stop_controller(crash.signal);
    stack.start_controller();
    request.join();
    wait_until_connected(stack, 0, std::chrono::seconds(30));

    // The operation this exec created, if the crash came late enough for it to exist.
    for (const auto& id : operation_ids(stack)) {
      if (known.insert(id).second) {
        INFO(crash.name << ": more than one new operation");
        REQUIRE_FALSE(round.operation_id);
        round.operation_id = id;
      }
    }
    if (round.operation_id) {
      const auto operation = wait_until_ended(stack, *round.operation_id, std::chrono::seconds(60));
      INFO(crash.name << ": " << boost::json::serialize(operation) << "\n" << stack_logs(stack));
      CHECK(e2e::string_field(operation, "status") == "completed");
    }
    rounds.push_back(std::move(round));
  }

  // A redelivery could come late, at the next hello: make the agent say hello to a fresh
  // controller once more, and give a duplicate the time to show up in a marker.
  stack.restart_agent(0, SIGTERM);
  stack.restart_controller(SIGKILL);
  wait_until_connected(stack, 0, std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::seconds(2));

  int ran = 0;
  for (const auto& round : rounds) {
    INFO(round.name << "; operation " << round.operation_id.value_or("(none)") << "\n" << stack_logs(stack));
    const auto lines = lines_of(round.marker);
    if (round.operation_id) {
      CHECK(lines == std::vector<std::string>{*round.operation_id});
      ++ran;
    } else {
      CHECK(lines.empty());
    }
  }
  // The rounds that crash only after the command started always have an operation; without
  // them the test would prove nothing.
  CHECK(ran >= 2);
}

TEST_CASE("a dispatch that reached a frozen agent just before the controller died runs once after the agent resumes",
          "[e2e][reliability][at-most-once]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();

  for (const int signal : {SIGKILL, SIGTERM}) {
    const auto marker = stack.dir() / fmt::format("frozen-marker-{}", signal);
    auto& agent = *stack.agent(0).process;
    // The dispatch waits, unread, in the frozen agent's socket when the controller goes away: the
    // agent may read it after all or lose it with the connection, and the new controller cannot
    // tell which until the agent's hello.
    agent.kill(SIGSTOP);
    std::string operation_id;
    try {
      operation_id = start_running_command(
          stack, key.key,
          fmt::format("echo \"$TETHER_OPERATION_ID\" >> {}; sleep 0.5", testing::shell_quote(marker.string())));
    } catch (...) {
      agent.kill(SIGCONT);
      throw;
    }
    stack.stop_controller(signal);
    stack.start_controller();
    agent.kill(SIGCONT);
    wait_until_connected(stack, 0, std::chrono::seconds(60));

    const auto operation = wait_until_ended(stack, operation_id, std::chrono::seconds(60));
    INFO("signal " << signal << ": " << boost::json::serialize(operation) << "\n" << stack_logs(stack));
    CHECK(e2e::string_field(operation, "status") == "completed");

    // Another hello to another controller must not run it again either.
    stack.restart_controller(SIGKILL);
    wait_until_connected(stack, 0, std::chrono::seconds(60));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(lines_of(marker) == std::vector<std::string>{operation_id});
  }
}
