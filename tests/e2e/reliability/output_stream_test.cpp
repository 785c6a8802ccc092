// Issue 4, points 7 and 8: live output over Server-Sent Events. GET /api/operations/{id}/stream
// (operators, ?token= accepted) and GET /api/automation/v1/operations/{id}/stream (rca_ keys)
// stream a command's output as it is produced, resume after Last-Event-ID without gap or
// duplicate, replay what came before, end with the final status, and let a slow reader slow the
// command instead of growing the controller's memory.
#include "tests/e2e/reliability/operations.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/process_usage.hpp"
#include "tests/support/script_file.hpp"
#include "tests/support/sse_client.hpp"
#include "tests/support/wait.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#ifndef TETHER_CONTROLLER_BINARY
#error "TETHER_CONTROLLER_BINARY must name the tether-controller executable"
#endif

using namespace tether;
using namespace tether::reliability;
using namespace std::chrono_literals;
using testing::SseClient;
using testing::SseRequest;

namespace {

constexpr auto kEventTimeout = 30s;
constexpr std::uint64_t kMiB = 1024 * 1024;

// One stack for every case: exec answers "running" after 1 s; the agent pauses reading a
// command's pipes once 1 MiB is unacknowledged and the controller stores 64 KiB per stream, so
// that the slow-reader case shows back-pressure with small figures.
testing::TetherStack& stream_stack() {
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  options.controller_args = {"--max-output-bytes", "65536"};
  options.agent_args = {"--spool-limit-bytes", "1048576"};
  return e2e::shared_stack(options);
}

// Everything a reader got from one or more connections to an operation's stream, in order.
struct StreamLog {
  std::vector<std::int64_t> seqs;
  std::string stdout_text;
  std::string stderr_text;
  std::vector<std::string> gaps;
  std::optional<boost::json::object> end;
  bool closed_after_end = false;

  std::size_t outputs() const { return seqs.size(); }
  std::string last_id() const { return std::to_string(seqs.back()); }
};

// Takes one event into `log`, checking the shape of output events; false when the stream closed.
bool take_event(SseClient& stream, StreamLog& log) {
  const auto event = stream.next(kEventTimeout);
  if (!event) return false;
  INFO("event '" << event->event << "' id '" << event->id << "': " << event->data.substr(0, 300));
  boost::system::error_code ec;
  auto data = boost::json::parse(event->data, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(data.is_object());
  const auto& object = data.as_object();
  if (event->event == "output") {
    REQUIRE_FALSE(log.end);
    const auto seq = e2e::int_field(object, "seq");
    CHECK(event->id == std::to_string(seq));
    log.seqs.push_back(seq);
    const auto stream_name = e2e::string_field(object, "stream");
    const auto text = e2e::string_field(object, "data");
    REQUIRE((stream_name == "stdout" || stream_name == "stderr"));
    (stream_name == "stdout" ? log.stdout_text : log.stderr_text) += text;
  } else if (event->event == "gap") {
    log.gaps.push_back(event->data);
  } else if (event->event == "end") {
    REQUIRE_FALSE(log.end);
    CHECK(event->id.empty());
    log.end = object;
  } else {
    FAIL("unexpected event type '" << event->event << "'");
  }
  return true;
}

// Reads until `enough` says so, or the end event has come and the server closed the stream.
void read_until(SseClient& stream, StreamLog& log, const std::function<bool(const StreamLog&)>& enough) {
  while (!enough(log)) {
    if (!take_event(stream, log)) {
      log.closed_after_end = log.end.has_value();
      return;
    }
  }
}

void read_to_close(SseClient& stream, StreamLog& log) {
  read_until(stream, log, [](const StreamLog&) { return false; });
}

// Seqs 1, 2, 3, ... without gap or repeat.
void check_consecutive(const std::vector<std::int64_t>& seqs) {
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    INFO("event " << i << " of " << seqs.size());
    REQUIRE(seqs[i] == static_cast<std::int64_t>(i + 1));
  }
}

const boost::json::object& result_of(const boost::json::object& view) {
  INFO(boost::json::serialize(view));
  REQUIRE(view.contains("result"));
  REQUIRE(view.at("result").is_object());
  return view.at("result").as_object();
}

// The end event carries the route's operation view without stdout and stderr.
void check_end_matches(const boost::json::object& end, boost::json::object view) {
  INFO("end event " << boost::json::serialize(end) << "\nview " << boost::json::serialize(view));
  REQUIRE(view.contains("result"));
  REQUIRE(view.at("result").is_object());
  auto& result = view.at("result").as_object();
  result.erase("stdout");
  result.erase("stderr");
  CHECK(end == view);  // member by member, in any order
}

void check_completed(const StreamLog& log, std::int64_t exit_code) {
  REQUIRE(log.end);
  INFO("end event: " << boost::json::serialize(*log.end));
  CHECK(e2e::string_field(*log.end, "status") == "completed");
  const auto& result = result_of(*log.end);
  CHECK(e2e::int_field(result, "exit_code") == exit_code);
  CHECK_FALSE(result.contains("stdout"));
  CHECK_FALSE(result.contains("stderr"));
  CHECK(log.closed_after_end);
}

// Shell that waits (at most 30 s) until `file` exists, so a test can open the stream first.
std::string wait_for_file(const std::filesystem::path& file) {
  return fmt::format("i=0; while [ ! -e {0} ]; do i=$((i+1)); [ $i -le 1500 ] || exit 97; sleep 0.02; done",
                     testing::shell_quote(file.string()));
}

void touch(const std::filesystem::path& file) {
  std::ofstream(file).put('\n');
  REQUIRE(std::filesystem::exists(file));
}

std::string operation_status(testing::TetherStack& stack, const std::string& operation_id) {
  const auto response = stack.admin("GET", "/api/operations/" + operation_id);
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  return e2e::string_field(e2e::json_object(response), "status");
}

void check_stream_head(const SseClient& stream) {
  INFO("HTTP " << stream.status() << " " << stream.error_body());
  REQUIRE(stream.status() == 200);
  CHECK(stream.header("Content-Type").rfind("text/event-stream", 0) == 0);
  CHECK(stream.header("Cache-Control") == "no-cache");
}

// Reads at least 10 lines of output, drops the connection, resumes with Last-Event-ID, lets the
// command finish (`go`) and reads to the end. The command cannot end before `go`, however slowly
// the machine runs, and lines are counted rather than chunks (a loaded agent may send several
// lines in one chunk).
StreamLog read_with_one_reconnect(testing::TetherStack& stack, const std::filesystem::path& go,
                                  const std::function<SseRequest(std::optional<std::string>)>& request) {
  StreamLog log;
  const auto lines = [](const StreamLog& l) { return std::count(l.stdout_text.begin(), l.stdout_text.end(), '\n'); };
  {
    SseClient first(request(std::nullopt));
    check_stream_head(first);
    read_until(first, log, [&](const StreamLog& l) { return lines(l) >= 10 || l.end; });
    INFO(stack_logs(stack));
    REQUIRE_FALSE(log.end);  // the command was still running when the reader went away
    REQUIRE(lines(log) >= 10);
    first.close();
  }
  SseClient second(request(log.last_id()));
  check_stream_head(second);
  touch(go);
  read_to_close(second, log);
  return log;
}

void check_complete_numbered_output(const StreamLog& log, testing::TetherStack& stack) {
  INFO(stack_logs(stack));
  check_consecutive(log.seqs);
  CHECK(log.gaps.empty());
  CHECK(log.stdout_text == numbered_lines(50));
  CHECK(log.stderr_text.empty());
  check_completed(log, 0);
}

// Lines 1 to 50, the second half once `go` exists.
std::string numbered_command(const std::filesystem::path& go) {
  return fmt::format("for i in $(seq 1 25); do echo $i; sleep 0.05; done; {}; for i in $(seq 26 50); do echo $i; done",
                     wait_for_file(go));
}

}  // namespace

TEST_CASE("a v1 reader that disconnects mid-stream and resumes with Last-Event-ID gets every chunk once, in order",
          "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  const auto go = stack.dir() / "v1-reconnect.go";
  const auto operation_id = start_running_command(stack, key.key, numbered_command(go));

  const auto log = read_with_one_reconnect(stack, go, [&](std::optional<std::string> last_event_id) {
    return stream_request(stack, v1_target(operation_id), key.key, std::move(last_event_id));
  });
  check_complete_numbered_output(log, stack);
}

TEST_CASE("an operator reader with ?token= that disconnects and resumes with Last-Event-ID gets every chunk once",
          "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  const auto go = stack.dir() / "operator-reconnect.go";
  const auto operation_id = start_running_command(stack, key.key, numbered_command(go));

  const auto log = read_with_one_reconnect(stack, go, [&](std::optional<std::string> last_event_id) {
    return stream_request(stack, operator_target(operation_id) + "?token=" + stack.admin_key(), std::nullopt,
                          std::move(last_event_id));
  });
  check_complete_numbered_output(log, stack);
}

TEST_CASE("output reaches a stream reader while the command still runs", "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  const auto first_go = stack.dir() / "live-first.go";
  const auto second_go = stack.dir() / "live-second.go";
  // The command cannot print `second`, nor end, before the test has received `first`.
  const auto operation_id = start_running_command(
      stack, key.key,
      fmt::format("{}; echo first; {}; echo second", wait_for_file(first_go), wait_for_file(second_go)));

  SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
  check_stream_head(stream);
  touch(first_go);
  StreamLog log;
  read_until(stream, log, [](const StreamLog& l) { return l.stdout_text == "first\n" || l.end; });
  INFO(stack_logs(stack));
  REQUIRE(log.stdout_text == "first\n");
  CHECK_FALSE(log.end);
  CHECK(operation_status(stack, operation_id) == "running");

  touch(second_go);
  read_to_close(stream, log);
  check_consecutive(log.seqs);
  CHECK(log.gaps.empty());
  CHECK(log.stdout_text == "first\nsecond\n");
  check_completed(log, 0);
}

TEST_CASE("the stream of a finished operation replays its stored output and ends at once with its final view",
          "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const auto response =
      testing::exec(client, key.key, e2e::exec_body(stack.server_id(), "echo out-1; echo err-1 >&2; echo out-2; exit 3"));
  INFO(testing::describe(response));
  REQUIRE(response.status == 200);
  const auto answer = e2e::json_object(response);
  REQUIRE(e2e::string_field(answer, "status") == "completed");
  const auto operation_id = e2e::string_field(answer, "operation_id");

  SECTION("v1 route") {
    SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
    check_stream_head(stream);
    StreamLog log;
    read_to_close(stream, log);
    check_consecutive(log.seqs);
    CHECK(log.gaps.empty());
    CHECK(log.stdout_text == "out-1\nout-2\n");
    CHECK(log.stderr_text == "err-1\n");
    check_completed(log, 3);
    check_end_matches(*log.end, e2e::json_object(testing::get_operation(client, key.key, operation_id)));
  }
  SECTION("operator route") {
    SseClient stream(stream_request(stack, operator_target(operation_id), stack.admin_key()));
    check_stream_head(stream);
    StreamLog log;
    read_to_close(stream, log);
    check_consecutive(log.seqs);
    CHECK(log.stdout_text == "out-1\nout-2\n");
    CHECK(log.stderr_text == "err-1\n");
    check_completed(log, 3);
    check_end_matches(*log.end, e2e::json_object(stack.admin("GET", "/api/operations/" + operation_id)));
  }
  SECTION("Last-Event-ID past the last chunk gives only the end event") {
    StreamLog all;
    {
      SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
      read_to_close(stream, all);
    }
    REQUIRE(all.outputs() >= 2);
    SseClient stream(stream_request(stack, v1_target(operation_id), key.key, all.last_id()));
    check_stream_head(stream);
    StreamLog log;
    read_to_close(stream, log);
    CHECK(log.seqs.empty());
    check_completed(log, 3);
  }
}

TEST_CASE("a slow reader holds the command back instead of growing the controller's memory",
          "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  constexpr std::uint64_t kBytes = 64 * kMiB;
  const auto go = stack.dir() / "slow-reader.go";
  const auto marker = stack.dir() / "slow-reader.done";
  const auto operation_id = start_running_command(
      stack, key.key,
      fmt::format("{}; head -c {} /dev/zero | tr '\\0' x; touch {}", wait_for_file(go), kBytes,
                  testing::shell_quote(marker.string())));

  SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
  check_stream_head(stream);
  const pid_t controller = stack.controller().pid();
  const auto baseline = testing::resident_bytes(controller);
  testing::PeakResidentSampler peak(controller, 10ms);
  touch(go);

  StreamLog log;
  read_until(stream, log, [](const StreamLog& l) { return l.outputs() >= 5 || l.end; });
  REQUIRE_FALSE(log.end);
  std::this_thread::sleep_for(3s);  // the reader stops reading

  INFO(stack_logs(stack));
  INFO("body bytes read: " << stream.body_bytes());
  CHECK_FALSE(std::filesystem::exists(marker));
  CHECK(operation_status(stack, operation_id) == "running");
  const auto peak_while_stalled = peak.stop();
  INFO("controller VmRSS: " << baseline / kMiB << " MiB before, peak " << peak_while_stalled / kMiB
                            << " MiB while the reader stalled");
  CHECK(peak_while_stalled < baseline + 64 * kMiB);

  read_to_close(stream, log);
  check_consecutive(log.seqs);
  CHECK(log.gaps.empty());
  CHECK(log.stdout_text.size() == kBytes);
  CHECK(log.stdout_text.find_first_not_of('x') == std::string::npos);
  CHECK(log.stderr_text.empty());
  check_completed(log, 0);
  CHECK(std::filesystem::exists(marker));
}

TEST_CASE("stream requests without a valid key, for an unknown operation, with a bad Last-Event-ID or out of "
          "scope are refused before the stream starts",
          "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const auto response = testing::exec(client, key.key, e2e::exec_body(stack.server_id(), "echo done"));
  REQUIRE(response.status == 200);
  const auto operation_id = e2e::string_field(e2e::json_object(response), "operation_id");
  const auto unknown = ids::new_uuid();
  const std::string wrong_admin_key = "tak_" + std::string(64, '0');

  const auto check_refused = [&](const SseRequest& request, int status) {
    SseClient stream(request);
    INFO("GET " << request.target.substr(0, request.target.find('?')) << ": HTTP " << stream.status() << " "
                << stream.error_body());
    CHECK(stream.status() == status);
    CHECK(stream.header("Content-Type").rfind("application/json", 0) == 0);
    boost::system::error_code ec;
    const auto body = boost::json::parse(stream.error_body(), ec);
    REQUIRE_FALSE(ec);
    REQUIRE(body.is_object());
    const auto* detail = body.as_object().if_contains("detail");
    REQUIRE(detail != nullptr);
    REQUIRE(detail->is_string());
    CHECK_FALSE(detail->as_string().empty());
    // The v1 route answers {"detail"} alone; the operator route adds the same text as "error".
    const bool v1 = request.target.rfind("/api/automation/v1/", 0) == 0;
    CHECK(body.as_object().size() == (v1 ? 1u : 2u));
    if (!v1) CHECK(body.as_object().at("error") == *detail);
  };

  SECTION("401 without a key or with a wrong one") {
    check_refused(stream_request(stack, v1_target(operation_id)), 401);
    check_refused(stream_request(stack, v1_target(operation_id), "rca_" + std::string(64, '0')), 401);
    // ?token= is for browsers on the operator route; the CI route takes its key from the header.
    check_refused(stream_request(stack, v1_target(operation_id) + "?token=" + key.key), 401);
    check_refused(stream_request(stack, operator_target(operation_id)), 401);
    check_refused(stream_request(stack, operator_target(operation_id) + "?token=" + wrong_admin_key), 401);
    check_refused(stream_request(stack, operator_target(operation_id), wrong_admin_key), 401);
    check_refused(stream_request(stack, operator_target(operation_id) + "?token=" + key.key), 401);
  }
  SECTION("404 for an unknown operation") {
    check_refused(stream_request(stack, v1_target(unknown), key.key), 404);
    check_refused(stream_request(stack, operator_target(unknown), stack.admin_key()), 404);
    check_refused(stream_request(stack, operator_target(unknown) + "?token=" + stack.admin_key()), 404);
    check_refused(stream_request(stack, operator_target("not-a-uuid"), stack.admin_key()), 404);
  }
  SECTION("422 for a Last-Event-ID that is not a non-negative integer") {
    for (const std::string bad : {"abc", "-1", "1.5", "7x"}) {
      INFO("Last-Event-ID '" << bad << "'");
      check_refused(stream_request(stack, v1_target(operation_id), key.key, bad), 422);
      check_refused(stream_request(stack, operator_target(operation_id), stack.admin_key(), bad), 422);
    }
  }
  SECTION("403 for a key whose servers do not include the operation's") {
    const auto other_server = stack.create_server("stream-other-server");
    const auto outsider = stack.create_automation_key(
        {.name = "stream-outsider", .allowed_server_ids = {e2e::string_field(other_server, "id")}});
    check_refused(stream_request(stack, v1_target(operation_id), outsider.key), 403);
  }
}

TEST_CASE("a viewer key may follow an operation's stream on the operator route", "[e2e][reliability][stream]") {
  auto& stack = stream_stack();
  const auto key = stack.create_automation_key();
  auto client = stack.client();
  const auto response = testing::exec(client, key.key, e2e::exec_body(stack.server_id(), "echo seen"));
  REQUIRE(response.status == 200);
  const auto operation_id = e2e::string_field(e2e::json_object(response), "operation_id");

  const auto created = testing::run_command({TETHER_CONTROLLER_BINARY, "admin", "create-key", "--name", "stream-viewer",
                                             "--role", "viewer", "--database-url", stack.database().url()},
                                            std::chrono::seconds(60), {}, {"TETHER_"});
  INFO(created.err);
  REQUIRE(created.succeeded());
  std::string viewer = created.out;
  while (!viewer.empty() && viewer.back() == '\n') viewer.pop_back();
  REQUIRE(e2e::is_secret(viewer, "tak_"));

  SseClient stream(stream_request(stack, operator_target(operation_id) + "?token=" + viewer));
  check_stream_head(stream);
  StreamLog log;
  read_to_close(stream, log);
  CHECK(log.stdout_text == "seen\n");
  check_completed(log, 0);
}

TEST_CASE("a reader that holds its agent back longer than a heartbeat interval is let go and the agent stays connected",
          "[e2e][reliability][stream]") {
  testing::TestDatabase database;
  testing::StackOptions options;
  options.sync_wait_cap_seconds = 1;
  options.controller_args = {"--heartbeat-interval-seconds", "2", "--max-output-bytes", "65536"};
  options.agent_args = {"--spool-limit-bytes", "1048576"};
  testing::TetherStack stack(database, options);
  const auto key = stack.create_automation_key();
  const auto go = stack.dir() / "held.go";
  const auto operation_id = start_running_command(
      stack, key.key, fmt::format("{}; head -c {} /dev/zero | tr '\\0' x", wait_for_file(go), 64 * kMiB));

  SseClient stream(stream_request(stack, v1_target(operation_id), key.key));
  check_stream_head(stream);
  touch(go);
  StreamLog log;
  read_until(stream, log, [](const StreamLog& l) { return l.outputs() >= 5 || l.end; });
  REQUIRE_FALSE(log.end);

  // The reader stops reading. After one heartbeat interval of holding the agent back it is let
  // go, well before the agent's connection would time out (three intervals without a read)...
  const bool dropped = testing::wait_until(
      [&] { return stack.controller_log().find("event=output_stream_dropped") != std::string::npos; }, 15s);
  INFO(stack_logs(stack));
  REQUIRE(dropped);
  // ...so the command runs on to its end, and the agent never lost its connection.
  const auto ended = wait_until_ended(stack, operation_id, 60s);
  CHECK(e2e::string_field(ended, "status") == "completed");
  CHECK(stack.controller_log().find("event=agent_disconnected") == std::string::npos);
  // What the reader still gets is in order and ends without an end event: it was let go.
  read_to_close(stream, log);
  CHECK_FALSE(log.end);
  check_consecutive(log.seqs);
}
